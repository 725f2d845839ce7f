// Overview: the experiment's charts (history + live), time range, event log, dosing and
// profile cards. The charts shown: the experiment's chart preferences, else config.ini's
// [ui.overview.charts].
import { useState } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { LogCard } from "../components/LogCard.jsx";
import { api, enc } from "../api.js";
import { Button, Card, Dialog, ErrorMessage, Field, Loading } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";
import { isOn } from "../ini.js";
import { Link } from "../router.jsx";
import { getItem, setItem } from "../storage.js";

export const RANGES = [
  ["now", "Now (live only)"],
  ["1", "Past hour"],
  ["4", "Past 4 hours"],
  ["12", "Past 12 hours"],
  ["24", "Past day"],
  ["72", "Past 3 days"],
  ["100000", "Whole experiment"],
];

// what a culture is doing first, then what was done to it; charts not named here follow, by key
const FIRST = ["normalized_optical_density", "implied_growth_rate", "optical_density", "temperature", "liquid_volume", "dosing_events"];

function inOrder(descriptors, order) {
  const rank = (c) => {
    const i = order.indexOf(c.chart_key);
    return i === -1 ? order.length : i;
  };
  return [...descriptors].sort((a, b) => rank(a) - rank(b) || a.chart_key.localeCompare(b.chart_key));
}

/** The charts to show, in order: the experiment's choice, else [ui.overview.charts] (its order, as upstream), else all. */
export function chartsToShow(descriptors, preferences, config, key = "overview_chart_keys") {
  const chosen = preferences?.[key];
  if (Array.isArray(chosen)) return inOrder(descriptors.filter((c) => chosen.includes(c.chart_key)), FIRST);
  const section = config["ui.overview.charts"];
  if (!section) return inOrder(descriptors, FIRST);
  return inOrder(descriptors.filter((c) => isOn(section[c.chart_key])), Object.keys(section));
}

export function useTimeControls() {
  const { config } = useApp();
  const [lookback, setLookbackState] = useState(getItem("lookback", "12"));
  const [timeMode, setTimeModeState] = useState(
    getItem("timeMode", config["ui.overview.settings"]?.time_display_mode === "hours" ? "hours" : "clock"),
  );
  const setLookback = (v) => {
    setItem("lookback", v);
    setLookbackState(v);
  };
  const setTimeMode = (v) => {
    setItem("timeMode", v);
    setTimeModeState(v);
  };
  const controls = (
    <div class="controls">
      <Field label="Time range">
        <select value={lookback} onChange={(e) => setLookback(e.currentTarget.value)}>
          {RANGES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Time axis">
        <select value={timeMode} onChange={(e) => setTimeMode(e.currentTarget.value)}>
          <option value="clock">Clock time</option>
          <option value="hours">Hours elapsed</option>
        </select>
      </Field>
    </div>
  );
  return { lookback, timeMode, controls };
}

export default function Overview() {
  const { experiment, config, labelOf, units } = useApp();
  const name = experiment?.experiment;
  const descriptors = useApi(name ? "/api/charts/descriptors" : null, { cache: true });
  const preferences = useApi(name ? `/api/experiments/${enc(name)}/chart_preferences` : null);
  const { lookback, timeMode, controls } = useTimeControls();
  const [choosing, setChoosing] = useState(false);

  if (!experiment)
    return (
      <div>
        <h1>Overview</h1>
        <p>
          No experiment yet. <Link href="/experiments">Create one</Link>.
        </p>
      </div>
    );
  const cards = config["ui.overview.cards"] || {};
  const charts = descriptors.data && preferences.data !== undefined ? chartsToShow(descriptors.data, preferences.data, config) : null;
  return (
    <div class="page overview">
      <div class="page-head">
        <div>
          <h1>{experiment.experiment}</h1>
          <p class="muted">
            {experiment.description || "No description"} · started {new Date(experiment.created_at).toLocaleString()} ·{" "}
            {Number(experiment.delta_hours ?? 0).toFixed(1)} h · {units.length} unit{units.length === 1 ? "" : "s"}: {units.map(labelOf).join(", ") || "none assigned"}
          </p>
        </div>
        <div class="controls">
          {controls}
          <Button onClick={() => setChoosing(true)} disabled={!charts}>
            Charts…
          </Button>
        </div>
      </div>
      {charts && (
        <ChooseCharts
          open={choosing}
          onClose={() => setChoosing(false)}
          experiment={name}
          descriptors={descriptors.data}
          shown={charts.map((c) => c.chart_key)}
          onSaved={preferences.reload}
        />
      )}
      <div class="overview-grid">
        <div class="charts">
          <ErrorMessage error={descriptors.error || preferences.error} />
          {!charts && !descriptors.error && <Loading what="Loading charts" />}
          {charts && charts.length === 0 && <p class="muted">No chart is enabled: see [ui.overview.charts] in the config.</p>}
          {charts?.map((chart) => (
            <Chart
              key={chart.chart_key}
              chart={chart}
              experiment={name}
              units={units}
              lookback={lookback}
              timeMode={timeMode}
              createdAt={experiment.created_at}
              labelOf={labelOf}
            />
          ))}
        </div>
        <aside class="side-cards">
          {cards.event_logs !== "0" && <LogCard experiment={name} />}
          {cards.dosings !== "0" && <MediaCard experiment={name} />}
          {cards.profiles !== "0" && <ProfilesCard experiment={name} />}
        </aside>
      </div>
    </div>
  );
}

function MediaCard({ experiment }) {
  const rates = useApi(`/api/experiments/${enc(experiment)}/media_rates`);
  const { labelOf } = useApp();
  const rows = Object.entries(rates.data || {});
  return (
    <Card title="Dosing (last 3 h)">
      <ErrorMessage error={rates.error} />
      <table class="compact">
        <thead>
          <tr>
            <th scope="col">Unit</th>
            <th scope="col">Media, ml/h</th>
            <th scope="col">Alt. media, ml/h</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([unit, r]) => (
            <tr key={unit}>
              <td>{unit === "all" ? "All" : labelOf(unit)}</td>
              <td>{Number(r.mediaRate).toFixed(2)}</td>
              <td>{Number(r.altMediaRate).toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function ProfilesCard({ experiment }) {
  const running = useApi(`/api/experiments/${enc(experiment)}/experiment_profiles/running`);
  return (
    <Card title="Profiles running">
      <ErrorMessage error={running.error} />
      {running.data && running.data.length === 0 && (
        <p class="muted">
          None. <Link href="/experiment-profiles">Run a profile</Link>.
        </p>
      )}
      <ul class="plain">
        {(running.data || []).map((p) => (
          <li key={p.job_id}>
            {p.settings?.experiment_profile_name || p.job_name} (job {p.job_id})
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** The experiment's choice of charts (kept on the server, for every browser). */
function ChooseCharts({ open, onClose, experiment, descriptors, shown, onSaved }) {
  const [chosen, setChosen] = useState(new Set(shown));
  const action = useAction();
  const save = (keys) =>
    action.run(async () => {
      await api(`/api/experiments/${enc(experiment)}/chart_preferences`, { method: "PATCH", body: { overview_chart_keys: keys } });
      onSaved();
      onClose();
    });
  return (
    <Dialog title="Charts of this experiment" open={open} onClose={onClose}>
      <ul class="plain">
        {descriptors.map((c) => (
          <li key={c.chart_key}>
            <label>
              <input
                type="checkbox"
                checked={chosen.has(c.chart_key)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  e.currentTarget.checked ? next.add(c.chart_key) : next.delete(c.chart_key);
                  setChosen(next);
                }}
              />{" "}
              {c.title}
            </label>
          </li>
        ))}
      </ul>
      <div class="card-actions">
        <Button kind="primary" busy={action.busy} onClick={() => save(descriptors.map((c) => c.chart_key).filter((k) => chosen.has(k)))}>
          Save
        </Button>
        <Button busy={action.busy} onClick={() => save(null)}>
          Back to the config's defaults
        </Button>
      </div>
      <ErrorMessage error={action.error} />
    </Dialog>
  );
}
