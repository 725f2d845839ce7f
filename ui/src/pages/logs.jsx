// Logs: every record of the current experiment (or of every experiment), by level and unit,
// page by page.
import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, formatTime } from "../components/ui.jsx";
import { useAllUnits, useApp } from "../hooks.js";

const LEVELS = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"];
const PAGE = 50;

export default function Logs({ params }) {
  const { experiment, config, labelOf } = useApp();
  const { units } = useAllUnits();
  const [level, setLevel] = useState((config.logging?.ui_log_level || "INFO").toUpperCase());
  const [unit, setUnit] = useState(params.unit || "");
  const [scope, setScope] = useState("experiment");
  const [rows, setRows] = useState([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const name = experiment?.experiment;

  const path = (skip) => {
    const q = `?skip=${skip}&limit=${PAGE}&min_level=${enc(level)}`;
    if (scope === "experiment" && name)
      return unit ? `/api/units/${enc(unit)}/experiments/${enc(name)}/logs${q}` : `/api/experiments/${enc(name)}/logs${q}`;
    return unit ? `/api/units/${enc(unit)}/logs${q}` : `/api/logs${q}`;
  };
  const load = (skip, controller) => {
    setLoading(true);
    return api(path(skip), { signal: controller?.signal })
      .then((page) => {
        setRows((r) => (skip ? [...r, ...page] : page));
        setMore(page.length === PAGE);
        setError(null);
      })
      .catch((err) => err.name !== "AbortError" && setError(err))
      .finally(() => setLoading(false));
  };
  useEffect(() => {
    const controller = new AbortController();
    setRows([]);
    load(0, controller);
    return () => controller.abort();
  }, [level, unit, scope, name]);

  return (
    <div class="page">
      <h1>Logs</h1>
      <div class="controls">
        <Field label="Level (and above)">
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
            {LEVELS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </Field>
        <Field label="Unit">
          <select value={unit} onChange={(e) => setUnit(e.currentTarget.value)}>
            <option value="">All units</option>
            {units.map((u) => (
              <option key={u} value={u}>
                {labelOf(u)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Experiments">
          <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
            <option value="experiment">{name ? `Only ${name}` : "This experiment"}</option>
            <option value="all">Every experiment</option>
          </select>
        </Field>
      </div>
      <Card>
        <ErrorMessage error={error} />
        <div class="table-wrap tall">
          <table class="logs">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Unit</th>
                <th scope="col">Job</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {!loading && rows.length === 0 && (
                <tr>
                  <td colSpan={5} class="muted">
                    No records.
                  </td>
                </tr>
              )}
              {rows.map((r, i) => (
                <tr key={i} class={`level-${String(r.level).toLowerCase()}`}>
                  <td class="nowrap">{formatTime(r.timestamp)}</td>
                  <td>{r.level}</td>
                  <td class="nowrap">{labelOf(r.pioreactor_unit)}</td>
                  <td class="nowrap">{r.task}</td>
                  <td class="log-message">{r.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {more && (
          <Button busy={loading} onClick={() => load(rows.length)}>
            More
          </Button>
        )}
      </Card>
    </div>
  );
}
