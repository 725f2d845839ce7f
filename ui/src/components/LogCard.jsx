// Recent log records of an experiment (or one unit), then new ones live from MQTT.
import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { useApp } from "../hooks.js";
import { subscribe } from "../mqtt.js";
import { Button, Card, ErrorMessage, Field } from "./ui.jsx";

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical"];

export function levelsFrom(min) {
  const i = LEVELS.indexOf(String(min || "info").toLowerCase());
  return LEVELS.slice(i < 0 ? 1 : i);
}

export function LogCard({ experiment, unit = null, title = "Event logs", limit = 50 }) {
  const { config, labelOf } = useApp();
  const minLevel = (config.logging?.ui_log_level || "INFO").toUpperCase();
  const [rows, setRows] = useState([]);
  const [error, setError] = useState(null);

  useEffect(() => {
    setRows([]);
    const controller = new AbortController();
    const base = unit ? `/api/workers/${enc(unit)}/experiments/${enc(experiment)}` : `/api/experiments/${enc(experiment)}`;
    api(`${base}/recent_logs?min_level=${enc(minLevel)}`, { signal: controller.signal })
      .then((records) => setRows((live) => [...live, ...records].slice(0, limit)))
      .catch((err) => err.name !== "AbortError" && setError(err));
    const who = unit || "+";
    const offs = levelsFrom(minLevel).flatMap((level) =>
      [experiment, "$experiment"].map((exp) =>
        subscribe(`pioreactor/${who}/${exp}/logs/+/${level}`, (topic, text, retained) => {
          if (retained) return;
          let record;
          try {
            record = JSON.parse(text);
          } catch {
            record = { message: text };
          }
          const parts = topic.split("/");
          const row = {
            timestamp: record.timestamp || new Date().toISOString(),
            pioreactor_unit: parts[1],
            level: (record.level || level).toUpperCase(),
            task: record.task || parts[4],
            message: record.message,
          };
          setRows((r) => [row, ...r].slice(0, limit));
        }),
      ),
    );
    return () => {
      controller.abort();
      offs.forEach((off) => off());
    };
  }, [experiment, unit, minLevel]);

  return (
    <Card title={title} class="logs-card">
      <ErrorMessage error={error} />
      <RecordEvent experiment={experiment} unit={unit} />
      <div class="table-wrap">
        <table class="logs">
          <thead>
            <tr>
              <th scope="col">When, where</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={2} class="muted">
                  Nothing logged yet.
                </td>
              </tr>
            )}
            {rows.map((r, i) => (
              <tr key={i} class={`level-${String(r.level).toLowerCase()}`}>
                <td class="log-meta">
                  <span class="nowrap">{new Date(r.timestamp).toLocaleTimeString()}</span>
                  <br />
                  <span class="muted small">
                    {unit ? "" : `${labelOf(r.pioreactor_unit)} · `}
                    {r.task}
                  </span>
                </td>
                <td class="log-message">{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** "Record an event": a line in the experiment's logs (added antifoam, took a sample...). */
function RecordEvent({ experiment, unit }) {
  const { units } = useApp();
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState("");
  const [target, setTarget] = useState(unit || units[0] || "");
  const [error, setError] = useState(null);
  if (!open)
    return (
      <Button kind="small" onClick={() => setOpen(true)}>
        Record an event
      </Button>
    );
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      await api(`/api/workers/${enc(target || unit)}/experiments/${enc(experiment)}/logs`, {
        method: "POST",
        body: { message, level: "INFO", source: "UI", timestamp: new Date().toISOString() },
      });
      setMessage("");
      setOpen(false);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      {!unit && (
        <Field label="Unit">
          <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            {units.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </Field>
      )}
      <Field label="Event" value={message} onInput={(e) => setMessage(e.currentTarget.value)} required placeholder="Added 1 ml antifoam" />
      <Button type="submit" kind="primary">
        Record
      </Button>
      <Button onClick={() => setOpen(false)}>Cancel</Button>
      <ErrorMessage error={error} />
    </form>
  );
}
