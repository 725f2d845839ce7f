// A unit's card: online or not, each job's state and settings, live; Manage and Blink.
import { useState } from "preact/hooks";
import { useAction, useApp, useTopic, useTopics } from "../hooks.js";
import { blink, showValue } from "../jobs.js";
import { Link } from "../router.jsx";
import { colorOf } from "../colors.js";
import { ManageDialog } from "./Manage.jsx";
import { Button, Card, ErrorMessage, StateBadge } from "./ui.jsx";

/** Every job topic of a unit in an experiment (states and settings), plus its LEDs. */
export function useUnitValues(unit, experiment) {
  return useTopics(`pioreactor/${unit}/${experiment}/+/+`);
}

export function UnitCard({ unit, jobs, link = true }) {
  const { experiment, labelOf } = useApp();
  const name = experiment.experiment;
  const values = useUnitValues(unit, name);
  const monitor = useTopic(`pioreactor/${unit}/$experiment/monitor/$state`);
  const [managing, setManaging] = useState(false);
  const action = useAction();
  const online = monitor === "ready" || monitor === "sleeping";
  const title = (
    <span class="unit-title">
      <span class="dot" style={{ background: colorOf(unit) }} aria-hidden="true" />
      {link ? <Link href={`/pioreactors/${encodeURIComponent(unit)}`}>{labelOf(unit)}</Link> : labelOf(unit)}{" "}
      <span class={online ? "badge state-ready" : "badge"} title="The unit's monitor job">
        {monitor ? (online ? "online" : monitor) : "monitor not seen"}
      </span>
    </span>
  );
  return (
    <Card
      title={title}
      class="unit-card"
      data-unit={unit}
      actions={
        <>
          <Button kind="small" busy={action.busy} onClick={() => action.run(() => blink(unit))}>
            Blink
          </Button>
          <Button kind="small primary" onClick={() => setManaging(true)} aria-label={`Manage ${labelOf(unit)}`}>
            Manage
          </Button>
        </>
      }
    >
      <ErrorMessage error={action.error} />
      {jobs
        .filter((j) => j.display !== false)
        .map((job) => {
          const state = values[`pioreactor/${unit}/${name}/${job.job_name}/$state`];
          const settings = (job.published_settings || []).filter((s) => s.display !== false);
          return (
            <div class="job-row" key={job.job_name} data-job={job.job_name} data-state={state || "off"}>
              <span>{job.display_name}</span>
              <StateBadge state={state} />
              {settings.length > 0 && state && state !== "disconnected" && (
                <div class="settings">
                  {settings.map((s) => (
                    <span key={s.key} data-setting={s.key}>
                      {s.label || s.key}: <strong>{showValue(values[`pioreactor/${unit}/${name}/${job.job_name}/${s.key}`], s)}</strong>
                    </span>
                  ))}
                </div>
              )}
            </div>
          );
        })}
      <ManageDialog unit={unit} open={managing} onClose={() => setManaging(false)} jobs={jobs} values={values} />
    </Card>
  );
}
