// Assign units of the inventory to the current experiment (a unit leaves its previous one).
import { api, enc } from "../api.js";
import { useAction, useApi, useApp } from "../hooks.js";
import { Link } from "../router.jsx";
import { Dialog, ErrorMessage, Loading } from "./ui.jsx";

/** Assign units of the inventory to this experiment (a unit leaves its previous one). */
export function AssignDialog({ open, onClose }) {
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
