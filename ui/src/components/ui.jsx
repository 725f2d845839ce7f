// Small building blocks: cards, buttons, dialogs, fields, error messages.
import { useEffect, useRef } from "preact/hooks";

export function Card({ title, actions, children, class: cls = "", ...rest }) {
  return (
    <section class={`card ${cls}`} {...rest}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Button({ kind = "", busy = false, children, ...rest }) {
  return (
    <button type="button" class={`btn ${kind}`} disabled={busy || rest.disabled} aria-busy={busy ? "true" : undefined} {...rest}>
      {children}
    </button>
  );
}

/** An API or task error, with its cause and what to do. */
export function ErrorMessage({ error, title }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message;
  return (
    <div class="error" role="alert">
      {title && <strong>{title}: </strong>}
      {message}
      {error.cause && typeof error.cause === "string" && <div class="muted">{error.cause}</div>}
      {error.remediation && <div class="muted">{error.remediation}</div>}
    </div>
  );
}

export function Loading({ what = "Loading" }) {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

/** A modal dialog (the native <dialog>: focus trap, Esc closes). */
export function Dialog({ title, open, onClose, children, wide = false }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
  }, [open]);
  return (
    <dialog ref={ref} class={wide ? "wide" : ""} aria-label={title} onClose={onClose} onCancel={onClose}>
      <header class="dialog-head">
        <h2>{title}</h2>
        <button type="button" class="btn icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="dialog-body">{open && children}</div>
    </dialog>
  );
}

/** A labelled input: <Field label="Target RPM" value=… onInput=… type="number" />, or a
 * label around its children (a select, a textarea). */
export function Field({ label, hint, unit, children, class: cls = "", ...input }) {
  return (
    <label class={`field ${cls}`}>
      <span class="field-label">{label}</span>
      <span class="field-input">
        {children || <input {...input} />}
        {unit && <span class="unit">{unit}</span>}
      </span>
      {hint && <small class="muted">{hint}</small>}
    </label>
  );
}

export function Tabs({ tabs, active, onChange }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([key, label]) => (
        <button
          type="button"
          role="tab"
          key={key}
          aria-selected={active === key ? "true" : "false"}
          class={active === key ? "tab active" : "tab"}
          onClick={() => onChange(key)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

export function StateBadge({ state }) {
  const label = state || "off";
  return <span class={`badge state-${label.replace("$", "")}`}>{label}</span>;
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

/**
 * Table rows of a `$broadcast` answer (`{unit: {ok, value | error}}`): `rowsOf(unit, value)`'s
 * rows for each unit that answered, `{unit, error}` for each that did not.
 */
export function unitRows(answer, rowsOf) {
  const rows = [];
  for (const [unit, entry] of Object.entries(answer || {})) {
    if (entry?.ok === false) rows.push({ unit, error: entry.error });
    else rows.push(...rowsOf(unit, entry?.value));
  }
  return rows;
}

/** A table row saying that `unit` did not answer (a row of unitRows with an error). */
export function UnitErrorRow({ unit, error, columns }) {
  return (
    <tr>
      <td>{unit}</td>
      <td colSpan={columns - 1} class="error-text">
        {typeof error === "string" ? error : error?.message || "no answer"}
      </td>
    </tr>
  );
}
