// Pioreactors: a card per unit of the experiment (jobs and settings, live), Manage per unit and
// for all, stop everything, assign and unassign units.
import { useState } from "preact/hooks";
import { AssignDialog } from "../components/AssignDialog.jsx";
import { ManageDialog } from "../components/Manage.jsx";
import { UnitCard } from "../components/UnitCard.jsx";
import { Button, ErrorMessage, Loading } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";
import { stopAll } from "../jobs.js";
import { Link } from "../router.jsx";

export default function Pioreactors() {
  const { experiment, units } = useApp();
  const jobs = useApi("/api/jobs/descriptors", { cache: true });
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
