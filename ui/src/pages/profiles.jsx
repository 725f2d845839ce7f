// Experiment profiles: every profile (run, edit, delete), the ones running in this experiment
// (progress, stop) and recent runs.
import { useEffect } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Loading, formatTime } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";
import { Link, navigate } from "../router.jsx";

export default function Profiles() {
  const { experiment } = useApp();
  const profiles = useApi("/api/experiment_profiles");
  const name = experiment?.experiment;
  const running = useApi(name ? `/api/experiments/${enc(name)}/experiment_profiles/running` : null);
  const recent = useApi(name ? `/api/experiments/${enc(name)}/experiment_profiles/recent` : null);
  const action = useAction();

  // progress of running profiles: poll while any runs
  useEffect(() => {
    if (!running.data?.length) return undefined;
    const timer = setInterval(() => running.reload(), 3000);
    return () => clearInterval(timer);
  }, [running.data?.length]);

  const run = (file) =>
    action.run(async () => {
      await api("/unit_api/jobs/run/job_name/experiment_profile", {
        method: "POST",
        body: { args: ["execute", file, name], options: {}, env: { JOB_SOURCE: "user", EXPERIMENT: name } },
      });
      running.reload();
      recent.reload();
    });
  const stop = (jobId) =>
    action.run(async () => {
      await api("/unit_api/jobs/stop", { method: "POST", body: { job_id: jobId } });
      running.reload();
    });
  const remove = (file) =>
    confirm(`Delete the profile ${file}?`) &&
    action.run(async () => {
      await api(`/api/experiment_profiles/${enc(file)}`, { method: "DELETE" });
      profiles.reload();
    });

  return (
    <div class="page">
      <div class="page-head">
        <h1>Experiment profiles</h1>
        <Button kind="primary" onClick={() => navigate("/experiment-profiles/new")}>
          New profile
        </Button>
      </div>
      <ErrorMessage error={action.error} />
      <div class="two-columns">
        <Card title="Profiles">
          <ErrorMessage error={profiles.error} />
          {!profiles.data && !profiles.error && <Loading />}
          {profiles.data?.length === 0 && <p class="muted">No profile yet.</p>}
          <ul class="plain profile-list">
            {(profiles.data || []).map((p) => (
              <li key={p.file} data-profile={p.file}>
                <div>
                  <strong>{p.experimentProfile?.experiment_profile_name || p.file}</strong> <span class="muted small">{p.file}</span>
                  <div class="muted small">{p.experimentProfile?.metadata?.description}</div>
                </div>
                <div class="card-actions">
                  <Button kind="small primary" disabled={!name} busy={action.busy} onClick={() => run(p.file)} aria-label={`Run ${p.file}`}>
                    Run
                  </Button>
                  <Link class="btn small" href={`/experiment-profiles/${encodeURIComponent(p.file)}/edit`} aria-label={`Edit ${p.file}`}>
                    Edit
                  </Link>
                  <Button kind="small danger" onClick={() => remove(p.file)} aria-label={`Delete ${p.file}`}>
                    Delete
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        </Card>
        <div>
          <Card title={`Running in ${name || "no experiment"}`}>
            <ErrorMessage error={running.error} />
            {running.data?.length === 0 && <p class="muted">No profile is running.</p>}
            {(running.data || []).map((r) => {
              const progress = Number(r.settings?.percent_progress || 0);
              return (
                <div key={r.job_id} class="job-row" data-running={r.settings?.profile_filename}>
                  <div>
                    <strong>{r.settings?.experiment_profile_name || r.job_name}</strong>{" "}
                    <span class="muted small">since {formatTime(r.settings?.start_time_utc)}</span>
                    <progress max="100" value={progress} aria-label="Progress">
                      {progress}%
                    </progress>
                    <span class="small"> {progress.toFixed(0)}%</span>
                  </div>
                  <Button kind="small danger" onClick={() => stop(r.job_id)} aria-label={`Stop ${r.settings?.experiment_profile_name || "profile"}`}>
                    Stop
                  </Button>
                </div>
              );
            })}
          </Card>
          <Card title="Recent runs">
            <ErrorMessage error={recent.error} />
            <ul class="plain">
              {(recent.data || []).slice(0, 20).map((r) => (
                <li key={r.run_id}>
                  {r.experiment_profile_name} · {r.pioreactor_unit} · {formatTime(r.started_at)}
                </li>
              ))}
            </ul>
          </Card>
        </div>
      </div>
    </div>
  );
}
