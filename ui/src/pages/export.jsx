// Export data: pick datasets (with their description and a preview), an experiment and an
// optional time range; the server writes a zip of CSV files (a task), the browser downloads it.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";

export default function ExportData({ query }) {
  const { experiments, experiment } = useApp();
  const datasets = useApi("/api/datasets/exportable");
  const [chosen, setChosen] = useState(new Set((query.get("datasets") || "").split(",").filter(Boolean)));
  const [target, setTarget] = useState(query.get("experiment") || experiment?.experiment || "");
  const [byUnit, setByUnit] = useState(false);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [preview, setPreview] = useState(null);
  const [file, setFile] = useState(null);
  const action = useAction();

  const toggle = (name, on) => {
    const next = new Set(chosen);
    on ? next.add(name) : next.delete(name);
    setChosen(next);
  };
  const submit = (event) => {
    event.preventDefault();
    setFile(null);
    action.run(async () => {
      const result = await api("/api/datasets/exportable/export", {
        method: "POST",
        body: {
          experiment: target,
          datasets: [...chosen],
          partition_by_unit: byUnit,
          partition_by_experiment: true,
          start_time: start ? new Date(start).toISOString() : null,
          end_time: end ? new Date(end).toISOString() : null,
        },
      });
      const url = result.url_path || `/exports/${result.filename}`;
      setFile({ url, name: result.filename });
      const link = document.createElement("a");
      link.href = url;
      link.download = result.filename || "";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  };

  return (
    <div class="page">
      <h1>Export data</h1>
      <form onSubmit={submit} aria-label="Export" class="two-columns">
        <Card title="Datasets">
          <ErrorMessage error={datasets.error} />
          {!datasets.data && !datasets.error && <Loading />}
          <ul class="plain datasets">
            {(datasets.data || []).map((d) => (
              <li key={d.dataset_name}>
                <label>
                  <input type="checkbox" checked={chosen.has(d.dataset_name)} onChange={(e) => toggle(d.dataset_name, e.currentTarget.checked)} />{" "}
                  <strong>{d.display_name}</strong>
                </label>
                <div class="muted small">{d.description}</div>
                <Button kind="small" onClick={() => setPreview(d.dataset_name)} aria-label={`Preview ${d.display_name}`}>
                  Preview
                </Button>
              </li>
            ))}
          </ul>
        </Card>
        <div>
          <Card title="What to export">
            <Field label="Experiment">
              <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
                {experiments.map((e) => (
                  <option key={e.experiment}>{e.experiment}</option>
                ))}
              </select>
            </Field>
            <Field label="From (optional)" type="datetime-local" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
            <Field label="Until (optional)" type="datetime-local" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
            <label class="check-line">
              <input type="checkbox" checked={byUnit} onChange={(e) => setByUnit(e.currentTarget.checked)} /> One file per unit
            </label>
            <div class="card-actions">
              <Button type="submit" kind="primary" busy={action.busy} disabled={!chosen.size || !target}>
                Export {chosen.size || ""} dataset{chosen.size === 1 ? "" : "s"}
              </Button>
            </div>
            <ErrorMessage error={action.error} title="Export failed" />
            {file && (
              <p class="ok" role="status">
                Exported: <a href={file.url}>{file.name}</a>
              </p>
            )}
          </Card>
          {preview && <Preview dataset={preview} />}
        </div>
      </form>
    </div>
  );
}

function Preview({ dataset }) {
  const rows = useApi(`/api/datasets/exportable/${enc(dataset)}/preview?n_rows=5`);
  const columns = rows.data?.length ? Object.keys(rows.data[0]) : [];
  return (
    <Card title={`Preview: ${dataset}`}>
      <ErrorMessage error={rows.error} />
      {rows.data?.length === 0 && <p class="muted">No rows yet.</p>}
      {columns.length > 0 && (
        <div class="table-wrap">
          <table class="compact">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.data.map((row, i) => (
                <tr key={i}>
                  {columns.map((c) => (
                    <td key={c}>{String(row[c] ?? "")}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
