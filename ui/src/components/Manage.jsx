// The Manage dialog of a unit (or of every unit: "$broadcast"): start, pause, resume and stop
// jobs with their options; change settings; dose and circulate; LED intensities; blink.
// Every failure (a refused start, a setting not confirmed) is shown where the user acted.
import { useEffect, useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { useAction, useApi, useApp } from "../hooks.js";
import { ACTIVE, blink, pause, resume, showValue, startJob, stopJob, updateSettings } from "../jobs.js";
import { subscribe } from "../mqtt.js";
import { Button, Dialog, ErrorMessage, Field, StateBadge, Tabs } from "./ui.jsx";

let capabilities = null; // what the leader can run: options of every job and automation
function loadCapabilities() {
  capabilities = capabilities || api("/unit_api/capabilities").catch((err) => ((capabilities = null), Promise.reject(err)));
  return capabilities;
}

const HIDDEN_OPTIONS = new Set(["source_of_event", "automation_name", "experiment"]);

/** Option fields of a job (or one automation of it) from the capabilities list. */
export function useOptions(job, automation = null) {
  const [fields, setFields] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setFields(null);
    if (!job) return;
    loadCapabilities()
      .then((all) => {
        const entry = all.find((c) => c.job_name === job && (automation === null || c.automation_name === automation));
        setFields((entry?.options || []).filter((o) => !HIDDEN_OPTIONS.has(o.name)));
      })
      .catch(setError);
  }, [job, automation]);
  return { fields, error };
}

function label(name) {
  return name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** Inputs for CLI options; values kept as text, sent only when filled in. */
function OptionFields({ fields, values, onChange }) {
  return fields.map((o) =>
    o.is_flag ? (
      <Field key={o.name} label={label(o.name)}>
        <select value={values[o.name] ?? (typeof o.default === "boolean" ? String(o.default) : "")} onChange={(e) => onChange({ ...values, [o.name]: e.currentTarget.value })}>
          <option value="">Default</option>
          <option value="true">Yes</option>
          <option value="false">No</option>
        </select>
      </Field>
    ) : (
      <Field
        key={o.name}
        label={label(o.name)}
        value={values[o.name] ?? (o.default ?? "")}
        placeholder={o.required ? "required" : "from config"}
        required={o.required}
        onInput={(e) => onChange({ ...values, [o.name]: e.currentTarget.value })}
      />
    ),
  );
}

function cleanOptions(values) {
  const options = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === "" || v === null || v === undefined) continue;
    options[k] = v === "true" ? true : v === "false" ? false : v;
  }
  return options;
}

/** The values a descriptor's fields start with: their defaults, as the inputs hold them (text). */
function defaultsOf(fields) {
  const values = {};
  for (const f of fields || []) if (f.default !== null && f.default !== undefined) values[f.key] = String(f.default);
  return values;
}

/** Inputs for an automation's fields (from its descriptor): numbers as number boxes, defaults filled in. */
function DescriptorFields({ fields, values, onChange }) {
  const set = (key) => (e) => onChange({ ...values, [key]: e.currentTarget.value });
  return fields.map((f) => {
    const common = { key: f.key, label: f.label || label(f.key), unit: f.unit, hint: f.description };
    if (f.type === "boolean" || f.type === "select") {
      const choices = f.type === "boolean" ? [["true", "Yes"], ["false", "No"]] : (f.options || []).map((o) => [o, o]);
      return (
        <Field {...common}>
          <select value={values[f.key] ?? ""} onChange={set(f.key)} required={f.required} disabled={f.disabled}>
            {!f.required && <option value="">Not set</option>}
            {choices.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </Field>
      );
    }
    return (
      <Field
        {...common}
        type={f.type === "numeric" ? "number" : "text"}
        step={f.type === "numeric" ? "any" : undefined}
        value={values[f.key] ?? ""}
        required={f.required}
        disabled={f.disabled}
        onInput={set(f.key)}
      />
    );
  });
}

/** Descriptor values as options: numbers as numbers, yes/no as booleans, empty ones left out. */
function descriptorOptions(fields, values) {
  const options = {};
  for (const f of fields) {
    const v = values[f.key];
    if (v === "" || v === null || v === undefined) continue;
    if (f.type === "boolean") options[f.key] = v === "true";
    else if (f.type === "numeric" && Number.isFinite(Number(v))) options[f.key] = Number(v);
    else options[f.key] = v;
  }
  return options;
}

function StartForm({ unit, experiment, job, onDone, onCancel }) {
  const kind = job.job_name.endsWith("_automation") ? job.job_name.replace(/_automation$/, "") : null;
  const automations = useApi(kind ? `/api/automations/descriptors/${enc(kind)}` : null);
  const [automation, setAutomation] = useState(null);
  const chosen = automation || automations.data?.[0]?.automation_name || null;
  const descriptor = automations.data?.find((a) => a.automation_name === chosen);
  // an automation's form comes from its descriptor; a plain job's from its command-line options
  const { fields, error } = useOptions(kind ? null : job.job_name);
  // what was typed, per automation (a plain job: ""); an automation not yet touched shows its defaults
  const [typed, setTyped] = useState({});
  const current = chosen || "";
  const values = typed[current] ?? (kind ? defaultsOf(descriptor?.fields) : {});
  const setValues = (next) => setTyped((all) => ({ ...all, [current]: next }));
  const action = useAction();

  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const options = kind ? descriptorOptions(descriptor?.fields || [], values) : cleanOptions(values);
      if (kind) options.automation_name = chosen;
      await startJob(unit, experiment, job.job_name, options);
      onDone();
    });
  };
  return (
    <form class="start-form" onSubmit={submit} aria-label={`Start ${job.display_name}`}>
      {kind && (
        <Field label="Automation">
          <select value={chosen || ""} onChange={(e) => setAutomation(e.currentTarget.value)}>
            {(automations.data || []).map((a) => (
              <option key={a.automation_name} value={a.automation_name}>
                {a.display_name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {descriptor?.description && <p class="muted">{descriptor.description}</p>}
      <ErrorMessage error={error || automations.error} />
      {kind ? descriptor && <DescriptorFields fields={descriptor.fields || []} values={values} onChange={setValues} /> : fields && <OptionFields fields={fields} values={values} onChange={setValues} />}
      <div class="card-actions">
        <Button type="submit" kind="primary" busy={action.busy}>
          Start
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
      <ErrorMessage error={action.error} title={`${job.display_name} did not start`} />
    </form>
  );
}

function JobControl({ unit, experiment, job, state }) {
  const [starting, setStarting] = useState(false);
  const action = useAction();
  const active = ACTIVE.has(state);
  const broadcast = unit === "$broadcast";
  return (
    <div class="job-row" data-job={job.job_name}>
      <div>
        <strong>{job.display_name}</strong> {!broadcast && <StateBadge state={state} />}
        {job.description && <div class="muted small">{job.description}</div>}
      </div>
      <div class="card-actions">
        {(broadcast || !active) && !starting && (
          <Button kind="primary" onClick={() => setStarting(true)} aria-label={`Start ${job.display_name}`}>
            Start
          </Button>
        )}
        {!broadcast && state === "ready" && (
          <Button busy={action.busy} onClick={() => action.run(() => pause(unit, experiment, job.job_name))} aria-label={`Pause ${job.display_name}`}>
            Pause
          </Button>
        )}
        {!broadcast && state === "sleeping" && (
          <Button busy={action.busy} onClick={() => action.run(() => resume(unit, experiment, job.job_name))} aria-label={`Resume ${job.display_name}`}>
            Resume
          </Button>
        )}
        {(broadcast || active) && (
          <Button kind="danger" busy={action.busy} onClick={() => action.run(() => stopJob(unit, experiment, job.job_name))} aria-label={`Stop ${job.display_name}`}>
            Stop
          </Button>
        )}
      </div>
      {starting && (
        <div class="settings">
          <StartForm unit={unit} experiment={experiment} job={job} onDone={() => setStarting(false)} onCancel={() => setStarting(false)} />
        </div>
      )}
      <div class="settings">
        <ErrorMessage error={action.error} />
      </div>
    </div>
  );
}

/** A setting's new value, sent, then confirmed when the job publishes it back. */
function SettingForm({ unit, experiment, job, setting, current }) {
  const [value, setValue] = useState("");
  const [status, setStatus] = useState(null);
  const action = useAction();
  const topic = `pioreactor/${unit}/${experiment}/${job.job_name}/${setting.key}`;
  const submit = (event) => {
    event.preventDefault();
    if (value === "") return;
    action.run(async () => {
      setStatus("sent");
      let confirmed = false;
      const wanted = setting.type === "numeric" ? Number(value) : value;
      const off = unit === "$broadcast" ? () => {} : subscribe(topic, (_t, text, retained) => {
        if (retained) return;
        let got = text;
        try {
          got = JSON.parse(text);
        } catch {
          /* text */
        }
        if (got === wanted || String(got) === String(value) || Number(got) === wanted) {
          confirmed = true;
          setStatus("confirmed");
        }
      });
      try {
        await updateSettings(unit, experiment, job.job_name, { [setting.key]: setting.type === "numeric" ? Number(value) : value });
      } catch (err) {
        off();
        setStatus(null);
        throw err;
      }
      setTimeout(() => {
        off();
        if (!confirmed && unit !== "$broadcast") setStatus("unconfirmed");
      }, 5000);
    });
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <Field
        label={`${job.display_name}: ${setting.label || setting.key}`}
        unit={setting.unit}
        type={setting.type === "numeric" ? "number" : "text"}
        step="any"
        placeholder={current ?? ""}
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <Button type="submit" busy={action.busy}>
        Update
      </Button>
      {unit !== "$broadcast" && <span class="muted">now {current ?? "–"}</span>}
      {status === "confirmed" && <span class="ok">Saved.</span>}
      {status === "unconfirmed" && <span class="error">The job did not confirm this value: see its logs.</span>}
      <ErrorMessage error={action.error} />
    </form>
  );
}

function SettingsTab({ unit, experiment, jobs, values }) {
  const rows = [];
  for (const job of jobs) {
    const state = values[`pioreactor/${unit}/${experiment}/${job.job_name}/$state`];
    if (unit !== "$broadcast" && !ACTIVE.has(state)) continue;
    for (const setting of job.published_settings || []) {
      if (!setting.editable) continue;
      const current = values[`pioreactor/${unit}/${experiment}/${job.job_name}/${setting.key}`];
      rows.push(<SettingForm key={`${job.job_name}/${setting.key}`} unit={unit} experiment={experiment} job={job} setting={setting} current={current === undefined ? null : showValue(current, setting)} />);
    }
  }
  if (!rows.length) return <p class="muted">No running job has settings to change. Start one in Activities.</p>;
  return <div>{rows}</div>;
}

/** Run a pump job for an amount (`ml` for a dose, `duration` in seconds for circulating), or stop it. */
function PumpForm({ unit, experiment, job, title, amount }) {
  const [value, setValue] = useState("");
  const action = useAction();
  const [done, setDone] = useState(null);
  const unitLabel = amount === "ml" ? "ml" : "seconds";
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      await startJob(unit, experiment, job, { [amount]: Number(value), source_of_event: "UI" });
      setDone(`${title}: ${value} ${unitLabel} started.`);
    });
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <Field label={`${title} (${unitLabel})`} type="number" min="0" step="any" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <Button type="submit" busy={action.busy}>
        Run
      </Button>
      <Button kind="danger" onClick={() => action.run(() => stopJob(unit, experiment, job))}>
        Stop
      </Button>
      {done && !action.error && <span class="ok">{done}</span>}
      <ErrorMessage error={action.error} />
    </form>
  );
}

function DosingTab({ unit, experiment }) {
  return (
    <div>
      <PumpForm unit={unit} experiment={experiment} job="add_media" amount="ml" title="Add media" />
      <PumpForm unit={unit} experiment={experiment} job="remove_waste" amount="ml" title="Remove waste" />
      <PumpForm unit={unit} experiment={experiment} job="add_alt_media" amount="ml" title="Add alternative media" />
      <h3>Circulate</h3>
      <PumpForm unit={unit} experiment={experiment} job="circulate_media" amount="duration" title="Circulate media" />
      <PumpForm unit={unit} experiment={experiment} job="circulate_alt_media" amount="duration" title="Circulate alternative media" />
    </div>
  );
}

function LedsTab({ unit, experiment, values, config }) {
  const current = (() => {
    try {
      return JSON.parse(values[`pioreactor/${unit}/${experiment}/leds/intensity`] || "{}");
    } catch {
      return {};
    }
  })();
  const names = config.leds || {};
  const [levels, setLevels] = useState({});
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    const options = {};
    for (const [k, v] of Object.entries(levels)) if (v !== "") options[k] = Number(v);
    action.run(() => startJob(unit, experiment, "led_intensity", { ...options, source_of_event: "UI" }));
  };
  return (
    <form onSubmit={submit}>
      {["A", "B", "C", "D"].map((channel) => (
        <Field
          key={channel}
          label={`LED ${channel}${names[channel] ? ` (${names[channel]})` : ""}`}
          unit="%"
          type="number"
          min="0"
          max="100"
          step="any"
          placeholder={current[channel] ?? ""}
          value={levels[channel] ?? ""}
          onInput={(e) => setLevels({ ...levels, [channel]: e.currentTarget.value })}
        />
      ))}
      <Button type="submit" kind="primary" busy={action.busy}>
        Set intensities
      </Button>
      <ErrorMessage error={action.error} />
    </form>
  );
}

function SystemTab({ unit }) {
  const action = useAction();
  const [done, setDone] = useState(false);
  return (
    <div>
      <p>Blink the unit's LED to find it on the bench.</p>
      <Button busy={action.busy} onClick={() => action.run(async () => (await blink(unit), setDone(true)))}>
        Blink
      </Button>
      {done && <span class="ok"> Blinking.</span>}
      <ErrorMessage error={action.error} />
    </div>
  );
}

/** values: topic → latest payload for this unit (from the page's subscription). */
export function ManageDialog({ unit, open, onClose, jobs, values = {} }) {
  const { experiment, config, labelOf } = useApp();
  const [tab, setTab] = useState("activities");
  const name = experiment.experiment;
  const title = unit === "$broadcast" ? "Manage all Pioreactors" : `Manage ${labelOf(unit)}`;
  const shown = jobs.filter((j) => j.display !== false);
  return (
    <Dialog title={title} open={open} onClose={onClose} wide>
      <Tabs
        active={tab}
        onChange={setTab}
        tabs={[
          ["activities", "Activities"],
          ["settings", "Settings"],
          ["dosing", "Dosing"],
          ["leds", "LEDs"],
          ["system", "System"],
        ]}
      />
      <div role="tabpanel">
        {tab === "activities" &&
          shown.map((job) => (
            <JobControl key={job.job_name} unit={unit} experiment={name} job={job} state={values[`pioreactor/${unit}/${name}/${job.job_name}/$state`]} />
          ))}
        {tab === "settings" && <SettingsTab unit={unit} experiment={name} jobs={shown} values={values} />}
        {tab === "dosing" && <DosingTab unit={unit} experiment={name} />}
        {tab === "leds" && <LedsTab unit={unit} experiment={name} values={values} config={config} />}
        {tab === "system" && <SystemTab unit={unit} />}
      </div>
    </Dialog>
  );
}
