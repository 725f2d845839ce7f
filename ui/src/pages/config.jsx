// Config: edit the shared config.ini or a unit's unit_config.ini (a worker's is the leader's copy,
// pushed to the worker on save); the server refuses a broken file (with the line and the
// problem) and keeps every saved version (history).
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading, formatTime } from "../components/ui.jsx";
import { useAction, useApi } from "../hooks.js";

/** This unit (the leader) first, then the workers of the inventory. */
function configUnits(here, workers) {
  const units = here ? [here] : [];
  for (const w of workers || []) if (!units.includes(w.pioreactor_unit)) units.push(w.pioreactor_unit);
  return units;
}

export default function Config() {
  const here = useApi("/unit_api/health");
  const workers = useApi("/api/workers");
  const units = configUnits(here.data?.pioreactor_unit, workers.data);
  const [file, setFile] = useState("shared");
  const base = file === "shared" ? "/api/config/shared" : `/api/config/units/${enc(file)}/specific`;
  const current = useApi(base);
  const history = useApi(`${base}/history`);
  const [loadFromHistory, setLoadFromHistory] = useState(null);
  return (
    <div class="page">
      <h1>Configuration</h1>
      <div class="controls">
        <Field label="File">
          <select value={file} onChange={(e) => setFile(e.currentTarget.value)}>
            <option value="shared">config.ini (every unit)</option>
            {units.map((u) => (
              <option key={u} value={u}>
                unit_config.ini of {u}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div class="two-columns wide-left">
        <Card title={file === "shared" ? "config.ini" : `unit_config.ini of ${file}`}>
          <ErrorMessage error={current.error} />
          {current.loading && <Loading />}
          {/* the editor shows once the file is here, so nothing typed can be overwritten by it */}
          {typeof current.data === "string" && (
            <Editor key={`${base}|${loadFromHistory?.at || ""}`} base={base} saved={current.data} initial={loadFromHistory?.text ?? current.data} onSaved={history.reload} />
          )}
        </Card>
        <Card title="History">
          <ErrorMessage error={history.error} />
          {history.data?.length === 0 && <p class="muted">No earlier version saved through the UI.</p>}
          <ul class="plain">
            {(history.data || []).slice(0, 30).map((h, i) => (
              <li key={i} class="history-item">
                <span>{formatTime(h.timestamp)}</span>{" "}
                <Button kind="small" onClick={() => setLoadFromHistory({ text: h.data ?? "", at: `${h.timestamp}-${Date.now()}` })}>
                  Load into editor
                </Button>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </div>
  );
}

/** The units a saved file did not reach: [[unit, why]] from the answer's per-unit envelopes. */
export function undelivered(answer) {
  return Object.entries(answer?.units || {})
    .filter(([, envelope]) => envelope && envelope.ok === false)
    .map(([unit, envelope]) => [unit, envelope.error?.message || "no answer"]);
}

function Editor({ base, saved, initial, onSaved }) {
  const [code, setCode] = useState(initial);
  const [done, setDone] = useState(false);
  const [missed, setMissed] = useState([]);
  const save = useAction();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setDone(false);
        setMissed([]);
        save.run(async () => {
          const answer = await api(base, { method: "PUT", body: { code } });
          setDone(true);
          setMissed(undelivered(answer));
          onSaved();
        });
      }}
    >
      <Field label="Contents">
        <textarea class="code" spellcheck={false} rows={24} value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </Field>
      <div class="card-actions">
        <Button type="submit" kind="primary" busy={save.busy}>
          Save
        </Button>
        <Button onClick={() => setCode(saved)}>Undo changes</Button>
        {done && <span class="ok">Saved.</span>}
      </div>
      <ErrorMessage error={save.error} title="Not saved" />
      {missed.length > 0 && (
        <div class="error" role="alert">
          <strong>Saved on the leader, not delivered to {missed.map(([unit]) => unit).join(", ")}</strong>
          <ul>
            {missed.map(([unit, why]) => (
              <li key={unit}>
                {unit}: {why}
              </li>
            ))}
          </ul>
          <p class="muted">Once it answers again, <code>pios sync-configs</code> sends it the saved files.</p>
        </div>
      )}
    </form>
  );
}
