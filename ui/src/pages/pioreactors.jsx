// Pioreactors: a card per unit of the experiment (jobs and settings, live), Manage per unit and
// for all, stop everything, assign and unassign units.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { ManageDialog } from "../components/Manage.jsx";
import { UnitCard } from "../components/UnitCard.jsx";
import { Button, Dialog, ErrorMessage, Loading } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";
import { stopAll } from "../jobs.js";
import { Link } from "../router.jsx";

export default function Pioreactors() {
  const { experiment, units } = useApp();
  const jobs = useApi("/api/jobs/descriptors");
  const [managingAll, setManagingAll] = useState(false);
  const [assigning, setAssigning] = useState(false);
  const stop = useAction();
  if (!experiment)
    return (
      <p>
        No experiment yet. <Link href="/experiments">Create one</Link>.
      </p>
    );
  const name = experiment.experiment;
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Pioreactors</h1>
          <p class="muted">Units working for {name}.</p>
        </div>
        <div class="card-actions">
          <Button onClick={() => setAssigning(true)}>Assign units</Button>
          <Button onClick={() => setManagingAll(true)} disabled={!units.length}>
            Manage all
          </Button>
          <Button
            kind="danger"
            busy={stop.busy}
            disabled={!units.length}
            onClick={() => confirm(`Stop every job of ${name} on every unit?`) && stop.run(() => stopAll("$broadcast", name))}
          >
            Stop all activity
          </Button>
        </div>
      </div>
      <ErrorMessage error={stop.error || jobs.error} />
      {!jobs.data && !jobs.error && <Loading />}
      {jobs.data && units.length === 0 && <p>No unit is assigned to this experiment yet: use "Assign units".</p>}
      {jobs.data && (
        <div class="units-grid">
          {units.map((unit) => (
            <UnitCard key={unit} unit={unit} jobs={jobs.data} />
          ))}
        </div>
      )}
      {jobs.data && <ManageDialog unit="$broadcast" open={managingAll} onClose={() => setManagingAll(false)} jobs={jobs.data} />}
      <AssignDialog open={assigning} onClose={() => setAssigning(false)} />
    </div>
  );
}

/** Assign units of the inventory to this experiment (a unit leaves its previous one). */
function AssignDialog({ open, onClose }) {
  const { experiment, units, reloadUnits, labelOf } = useApp();
  const workers = useApi(open ? "/api/workers" : null);
  const assignments = useApi(open ? "/api/workers/assignments" : null);
  const action = useAction();
  const name = experiment.experiment;
  const elsewhere = Object.fromEntries((assignments.data || []).map((a) => [a.pioreactor_unit, a.experiment]));
  const all = [...new Set([...(workers.data || []).map((w) => w.pioreactor_unit), ...units])].sort();
  const toggle = (unit, on) =>
    action.run(async () => {
      if (on) await api(`/api/experiments/${enc(name)}/workers`, { method: "PUT", body: { pioreactor_unit: unit } });
      else await api(`/api/experiments/${enc(name)}/workers/${enc(unit)}`, { method: "DELETE" });
      await reloadUnits();
      assignments.reload();
    });
  return (
    <Dialog title={`Units of ${name}`} open={open} onClose={onClose}>
      <ErrorMessage error={workers.error || assignments.error || action.error} />
      {!workers.data && <Loading />}
      {workers.data && all.length === 0 && (
        <p>
          The inventory is empty: add workers on the <Link href="/inventory">Inventory</Link> page.
        </p>
      )}
      <ul class="plain">
        {all.map((unit) => (
          <li key={unit}>
            <label>
              <input type="checkbox" checked={units.includes(unit)} disabled={action.busy} onChange={(e) => toggle(unit, e.currentTarget.checked)} /> {labelOf(unit)}
              {elsewhere[unit] && elsewhere[unit] !== name && <span class="muted"> (now in {elsewhere[unit]})</span>}
            </label>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
