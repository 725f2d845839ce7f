// Plugins: what each unit has installed; install by name on one unit or every unit; uninstall.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading, UnitErrorRow, unitRows } from "../components/ui.jsx";
import { useAction, useAllUnits, useApi } from "../hooks.js";

export default function Plugins() {
  const installed = useApi("/api/units/$broadcast/plugins/installed");
  const here = useApi("/unit_api/plugins/installed");
  const { units } = useAllUnits();
  const [name, setName] = useState("");
  const [target, setTarget] = useState("$broadcast");
  const action = useAction();
  const [done, setDone] = useState(null);
  const reload = () => {
    installed.reload();
    here.reload();
  };
  // the leader's own list, plus every worker's (a fan-out result per unit)
  const rows = unitRows(installed.data, (unit, plugins) => (plugins || []).map((plugin) => ({ unit, plugin })));
  if (!Object.keys(installed.data || {}).length) for (const p of here.data || []) rows.push({ unit: "this unit", plugin: p });
  return (
    <div class="page">
      <h1>Plugins</h1>
      <div class="two-columns wide-left">
        <Card title="Installed">
          <ErrorMessage error={installed.error || here.error} />
          {(installed.loading || here.loading) && <Loading />}
          {!installed.loading && !here.loading && rows.length === 0 && <p class="muted">No plugin besides the built-in ones.</p>}
          <table>
            <thead>
              <tr>
                <th scope="col">Unit</th>
                <th scope="col">Plugin</th>
                <th scope="col">Version</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) =>
                r.error ? (
                  <UnitErrorRow key={i} unit={r.unit} error={r.error} columns={4} />
                ) : (
                  <tr key={i}>
                    <td>{r.unit}</td>
                    <td>
                      <strong>{r.plugin.name}</strong>
                      <div class="muted small">
                        {r.plugin.description} {r.plugin.author ? `· ${r.plugin.author}` : ""} {r.plugin.status && r.plugin.status !== "ok" ? `· ${r.plugin.status}` : ""}
                      </div>
                    </td>
                    <td>{r.plugin.version}</td>
                    <td>
                      <Button
                        kind="small danger"
                        busy={action.busy}
                        onClick={() =>
                          confirm(`Uninstall ${r.plugin.name}?`) &&
                          action.run(async () => {
                            const unit = r.unit === "this unit" ? "$broadcast" : r.unit;
                            await api(`/api/units/${enc(unit)}/plugins/uninstall`, { method: "POST", body: { args: [r.plugin.name] } });
                            reload();
                          })
                        }
                      >
                        Uninstall
                      </Button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </Card>
        <Card title="Install a plugin">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setDone(null);
              action.run(async () => {
                await api(`/api/units/${enc(target)}/plugins/install`, { method: "POST", body: { args: [name.trim()] } });
                setDone(`${name} installed.`);
                reload();
              });
            }}
          >
            <Field label="Package name" required value={name} placeholder="pioreactor-air-bubbler" onInput={(e) => setName(e.currentTarget.value)} />
            <Field label="On">
              <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
                <option value="$broadcast">Every unit</option>
                {units.map((u) => (
                  <option key={u}>{u}</option>
                ))}
              </select>
            </Field>
            <Button type="submit" kind="primary" busy={action.busy}>
              Install
            </Button>
            {done && <p class="ok">{done}</p>}
            <ErrorMessage error={action.error} />
          </form>
        </Card>
      </div>
    </div>
  );
}
