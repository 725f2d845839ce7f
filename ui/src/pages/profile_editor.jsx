// The profile editor: YAML checked as you type by the server's verifier (the same checks as
// `pio run experiment_profile verify`), problems marked at their line and column.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading } from "../components/ui.jsx";
import { useAction, useApi } from "../hooks.js";
import { Link, navigate } from "../router.jsx";

const TEMPLATE = `experiment_profile_name: my profile
metadata:
  author: me
  description: what this profile does
common:
  jobs:
    stirring:
      actions:
        - type: start
          hours_elapsed: 0.0
          options:
            target_rpm: 400
        - type: stop
          hours_elapsed: 12.0
`;

function lineClass(diagnostics) {
  if (!diagnostics) return "";
  return diagnostics.some((d) => d.severity !== "warning") ? "bad" : "warnline";
}

export default function ProfileEditor({ params }) {
  const file = params.file || null;
  const existing = useApi(file ? `/api/experiment_profiles/${enc(file)}` : null);
  if (file && existing.error) return <ErrorMessage error={existing.error} title={`Cannot open ${file}`} />;
  if (file && existing.data === undefined) return <Loading />;
  return <Editor file={file} initial={file ? String(existing.data) : TEMPLATE} />;
}

function Editor({ file, initial }) {
  const [filename, setFilename] = useState(file || "my_profile.yaml");
  const [body, setBody] = useState(initial);
  const [check, setCheck] = useState({ state: "checking", diagnostics: [] });
  const textarea = useRef(null);
  const gutter = useRef(null);
  const save = useAction();
  const [saved, setSaved] = useState(false);

  // check 300 ms after the last keystroke; an older answer never replaces a newer one
  useEffect(() => {
    const controller = new AbortController();
    setCheck((c) => ({ ...c, state: "checking" }));
    const timer = setTimeout(() => {
      api("/api/experiment_profiles/verify", { method: "POST", body: { body, filename }, signal: controller.signal })
        .then((answer) => setCheck({ state: answer.ok ? "ok" : "problems", diagnostics: answer.diagnostics || [] }))
        .catch((err) => err.name !== "AbortError" && setCheck({ state: "error", diagnostics: [], error: err }));
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [body, filename]);

  const lines = body.split("\n");
  const badLines = new Map();
  for (const d of check.diagnostics) if (d.line) badLines.set(d.line, [...(badLines.get(d.line) || []), d]);

  const jumpTo = (line, column = 1) => {
    const el = textarea.current;
    if (!el) return;
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(column - 1, 0);
    el.focus();
    el.setSelectionRange(offset, offset);
  };

  const submit = (event) => {
    event.preventDefault();
    setSaved(false);
    save.run(async () => {
      if (file) await api(`/api/experiment_profiles/${enc(file)}`, { method: "PATCH", body: { body } });
      else await api("/api/experiment_profiles", { method: "POST", body: { filename, body } });
      setSaved(true);
      if (!file) navigate(`/experiment-profiles/${encodeURIComponent(filename)}/edit`, { replace: true });
    });
  };

  const errors = check.diagnostics.filter((d) => d.severity !== "warning");
  return (
    <div class="page">
      <p class="muted">
        <Link href="/experiment-profiles">Experiment profiles</Link> ›
      </p>
      <h1>{file ? `Edit ${file}` : "New profile"}</h1>
      <form onSubmit={submit} aria-label="Profile">
        {!file && <Field label="File name" value={filename} onInput={(e) => setFilename(e.currentTarget.value)} hint="A plain name ending in .yaml" />}
        <div class="editor">
          <pre class="gutter" ref={gutter} aria-hidden="true">
            {lines.map((_, i) => (
              <span key={i} class={lineClass(badLines.get(i + 1))} title={(badLines.get(i + 1) || []).map((d) => d.message).join("\n")}>
                {i + 1}
                {"\n"}
              </span>
            ))}
          </pre>
          <textarea
            ref={textarea}
            class="code"
            spellcheck={false}
            aria-label="Profile YAML"
            aria-invalid={errors.length ? "true" : "false"}
            aria-describedby="profile-check"
            value={body}
            onInput={(e) => setBody(e.currentTarget.value)}
            onScroll={(e) => gutter.current && (gutter.current.scrollTop = e.currentTarget.scrollTop)}
            onKeyDown={(e) => {
              if (e.key === "Tab" && !e.shiftKey) {
                // two spaces, as YAML wants; Shift+Tab (or Esc then Tab) leaves the editor
                e.preventDefault();
                const el = e.currentTarget;
                const at = el.selectionStart;
                setBody(body.slice(0, at) + "  " + body.slice(el.selectionEnd));
                requestAnimationFrame(() => el.setSelectionRange(at + 2, at + 2));
              }
            }}
          />
        </div>
        <div id="profile-check" class="check" role="status" data-check={check.state}>
          {check.state === "checking" && <span class="muted">Checking…</span>}
          {check.state === "ok" && <span class="ok">No problems found.</span>}
          {check.state === "error" && <ErrorMessage error={check.error} title="Could not check the profile" />}
          {check.diagnostics.length > 0 && (
            <ul class="problems">
              {check.diagnostics.map((d, i) => (
                <li key={i} class={d.severity === "warning" ? "warn" : "error-text"} data-line={d.line}>
                  <button type="button" class="linklike" onClick={() => jumpTo(d.line, d.column)}>
                    Line {d.line}, column {d.column}
                  </button>
                  : {d.severity}: {d.message}
                  {d.hint && <div class="muted small">{d.hint}</div>}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div class="card-actions">
          <Button type="submit" kind="primary" busy={save.busy}>
            Save
          </Button>
          <Link class="btn" href="/experiment-profiles">
            Back
          </Link>
          {saved && <span class="ok">Saved.</span>}
        </div>
        <ErrorMessage error={save.error} title="Not saved" />
      </form>
    </div>
  );
}
