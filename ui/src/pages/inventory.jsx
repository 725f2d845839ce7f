// Inventory: the leader and every worker, active or not, their monitor's health and versions
// (live from MQTT); add, remove, activate, deactivate, blink.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading, formatTime } from "../components/ui.jsx";
import { useAction, useApi, useApp, useTopics } from "../hooks.js";
import { blink } from "../jobs.js";

export default function Inventory() {
  const workers = useApi("/api/workers");
  const here = useApi("/unit_api/health");
  const version = useApi("/unit_api/versions/app");
  const assignments = useApi("/api/workers/assignments");
  const leader = here.data?.pioreactor_unit;
  const experimentOf = Object.fromEntries((assignments.data || []).map((a) => [a.pioreactor_unit, a.experiment]));
  const names = (workers.data || []).map((w) => w.pioreactor_unit);
  return (
    <div class="page">
      <h1>Inventory</h1>
      <ErrorMessage error={workers.error || here.error} />
      {(workers.loading || here.loading) && <Loading />}
      <div class="units-grid">
        {leader && !names.includes(leader) && (
          <UnitHealth unit={leader} role="leader" version={version.data?.version} experiment={experimentOf[leader]} />
        )}
        {(workers.data || []).map((w) => (
          <UnitHealth
            key={w.pioreactor_unit}
            unit={w.pioreactor_unit}
            worker={w}
            role={w.pioreactor_unit === leader ? "leader and worker" : "worker"}
            experiment={experimentOf[w.pioreactor_unit]}
            onChange={() => {
              workers.reload();
              assignments.reload();
            }}
          />
        ))}
      </div>
      <AddWorker onAdded={workers.reload} />
    </div>
  );
}

function UnitHealth({ unit, worker, role, version, experiment, onChange }) {
  const { labelOf } = useApp();
  const monitor = useTopics(`pioreactor/${unit}/$experiment/monitor/+`);
  const action = useAction();
  const get = (key) => monitor[`pioreactor/${unit}/$experiment/monitor/${key}`];
  let versions = {};
  try {
    versions = JSON.parse(get("versions") || "{}");
  } catch {
    versions = {};
  }
  const state = get("$state");
  const act = (fn) =>
    action.run(async () => {
      await fn();
      onChange?.();
    });
  return (
    <Card title={labelOf(unit)} data-unit={unit}>
      <dl class="facts">
        <dt>Role</dt>
        <dd>{role}</dd>
        {worker && (
          <>
            <dt>Address</dt>
            <dd>{worker.address || "–"}</dd>
            <dt>Active</dt>
            <dd>{worker.is_active ? "yes" : "no"}</dd>
            <dt>Added</dt>
            <dd>{formatTime(worker.added_at)}</dd>
          </>
        )}
        <dt>Monitor</dt>
        <dd>{state ? (state === "ready" ? "healthy" : state) : "not seen"}</dd>
        <dt>Software</dt>
        <dd>{versions.app || version || "–"}</dd>
        <dt>Experiment</dt>
        <dd>{experiment || "none"}</dd>
        {get("ipv4") && (
          <>
            <dt>IPv4</dt>
            <dd>{get("ipv4")}</dd>
          </>
        )}
      </dl>
      <div class="card-actions">
        <Button kind="small" busy={action.busy} onClick={() => act(() => blink(unit))}>
          Blink
        </Button>
        {worker && (
          <>
            <Button
              kind="small"
              busy={action.busy}
              onClick={() => act(() => api(`/api/workers/${enc(unit)}/is_active`, { method: "PUT", body: { is_active: worker.is_active ? 0 : 1 } }))}
            >
              {worker.is_active ? "Deactivate" : "Activate"}
            </Button>
            <Button
              kind="small danger"
              busy={action.busy}
              onClick={() => confirm(`Remove ${unit} from the inventory?`) && act(() => api(`/api/workers/${enc(unit)}`, { method: "DELETE" }))}
            >
              Remove
            </Button>
          </>
        )}
      </div>
      <ErrorMessage error={action.error} />
    </Card>
  );
}

/** Units answering on the local network (mDNS) that are not in the inventory yet, each with an Add button. */
function Discovered({ onAdded }) {
  const [found, setFound] = useState(null);
  const search = useAction();
  const add = useAction();
  return (
    <div class="discover">
      <Button busy={search.busy} onClick={() =>
          search.run(async () => {
            setFound(null);
            setFound(await api("/api/workers/discover?seconds=3"));
          })
        }>
        {search.busy ? "Looking for 3 s…" : "Find workers on the network"}
      </Button>
      <ErrorMessage error={search.error} />
      {found && found.length === 0 && <p class="muted">No unit outside the inventory answered. A unit answers while its web server runs, unless its config says [mdns] advertise=0.</p>}
      {found && found.length > 0 && (
        <ul class="plain" aria-label="Units found on the network">
          {found.map((u) => (
            <li key={u.pioreactor_unit} data-unit={u.pioreactor_unit}>
              <strong>{u.pioreactor_unit}</strong> <span class="muted">{u.address}{u.version ? ` · ${u.version}` : ""}</span>{" "}
              <Button
                kind="small"
                busy={add.busy}
                onClick={() =>
                  add.run(async () => {
                    await api("/api/workers", { method: "POST", body: { pioreactor_unit: u.pioreactor_unit, address: u.address } });
                    setFound(found.filter((f) => f.pioreactor_unit !== u.pioreactor_unit));
                    onAdded();
                  })
                }
              >
                Add {u.pioreactor_unit}
              </Button>
            </li>
          ))}
        </ul>
      )}
      <ErrorMessage error={add.error} title="Not added" />
    </div>
  );
}

function AddWorker({ onAdded }) {
  const [unit, setUnit] = useState("");
  const [address, setAddress] = useState("");
  const action = useAction();
  return (
    <Card title="Add a worker">
      <Discovered onAdded={onAdded} />
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          action.run(async () => {
            await api("/api/workers", { method: "POST", body: { pioreactor_unit: unit.trim(), ...(address.trim() ? { address: address.trim() } : {}) } });
            setUnit("");
            setAddress("");
            onAdded();
          });
        }}
      >
        <Field label="Name" required value={unit} placeholder="pio2" onInput={(e) => setUnit(e.currentTarget.value)} />
        <Field label="Address (optional)" value={address} placeholder="pio2.local:80" onInput={(e) => setAddress(e.currentTarget.value)} />
        <Button type="submit" kind="primary" busy={action.busy}>
          Add
        </Button>
      </form>
      <p class="muted small">The worker must answer on its web port; `pio workers add` does the same from a terminal.</p>
      <ErrorMessage error={action.error} title="Not added" />
    </Card>
  );
}
