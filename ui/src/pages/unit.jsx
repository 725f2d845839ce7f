// One unit: its vial (live), its jobs and Manage dialog, its charts and its logs.
import { enc } from "../api.js";
import { Chart } from "../components/Chart.jsx";
import { LogCard } from "../components/LogCard.jsx";
import { UnitCard } from "../components/UnitCard.jsx";
import { Card, ErrorMessage, Loading } from "../components/ui.jsx";
import { Vial } from "../components/Vial.jsx";
import { useApi, useApp } from "../hooks.js";
import { Link } from "../router.jsx";
import { chartsToShow, useTimeControls } from "./overview.jsx";

export default function Unit({ params }) {
  const { unit } = params;
  const { experiment, units, labelOf, config } = useApp();
  const jobs = useApi("/api/jobs/descriptors", { cache: true });
  const model = useApi(`/api/workers/${enc(unit)}/model`);
  const unitConfig = useApi(`/api/workers/${enc(unit)}/configuration`);
  const descriptors = useApi("/api/charts/descriptors", { cache: true });
  const preferences = useApi(experiment ? `/api/experiments/${enc(experiment.experiment)}/chart_preferences` : null);
  const { lookback, timeMode, controls } = useTimeControls();
  if (!experiment) return <p>No experiment yet.</p>;
  const name = experiment.experiment;
  const assigned = units.includes(unit);
  const charts =
    descriptors.data && preferences.data !== undefined ? chartsToShow(descriptors.data, preferences.data, config, "pioreactor_chart_keys") : null;
  return (
    <div class="page unit-page">
      <div class="page-head">
        <div>
          <p class="muted">
            <Link href="/pioreactors">Pioreactors</Link> ›
          </p>
          <h1>{labelOf(unit)}</h1>
          <p class="muted">
            {model.data ? model.data.display_name || `${model.data.model_name} ${model.data.model_version || ""}` : ""} ·{" "}
            {assigned ? `working for ${name}` : `not assigned to ${name}`}
          </p>
        </div>
        {controls}
      </div>
      <div class="overview-grid">
        <div class="charts">
          <ErrorMessage error={descriptors.error || preferences.error} />
          {!charts && <Loading what="Loading charts" />}
          {charts?.map((chart) => (
            <Chart
              key={chart.chart_key}
              chart={chart}
              experiment={name}
              unit={unit}
              units={[unit]}
              lookback={lookback}
              timeMode={timeMode}
              createdAt={experiment.created_at}
              labelOf={labelOf}
            />
          ))}
        </div>
        <aside class="side-cards">
          <Card title="Vial">
            <Vial unit={unit} experiment={name} config={unitConfig.data || config} />
          </Card>
          <ErrorMessage error={jobs.error} />
          {jobs.data && <UnitCard unit={unit} jobs={jobs.data} link={false} />}
          <LogCard experiment={name} unit={unit} title="Logs" />
        </aside>
      </div>
    </div>
  );
}
