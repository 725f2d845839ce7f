// Experiments: create one, switch to another, edit the current one (description, units,
// labels), end it (unassign every unit) or delete it (with confirmation); every experiment.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { AssignDialog } from "../components/AssignDialog.jsx";
import { Button, Card, Dialog, ErrorMessage, Field, formatTime } from "../components/ui.jsx";
import { useAction, useApi, useApp } from "../hooks.js";

export default function Experiments() {
  const { experiment } = useApp();
  return (
    <div class="page">
      <h1>Experiments</h1>
      <div class="two-columns">
        <div>
          {experiment && <CurrentExperiment />}
          <NewExperiment />
        </div>
        <AllExperiments />
      </div>
    </div>
  );
}

function NewExperiment() {
  const { reloadExperiments, setExperiment } = useApp();
  const [form, setForm] = useState({ experiment: "", description: "", mediaUsed: "", organismUsed: "" });
  const action = useAction();
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api("/api/experiments", { method: "POST", body: { ...form, experiment: form.experiment.trim(), created_at: new Date().toISOString() } });
      await reloadExperiments();
      setExperiment(form.experiment.trim());
    });
  };
  return (
    <Card title="New experiment">
      <form onSubmit={submit} aria-label="New experiment">
        <Field label="Name" required value={form.experiment} onInput={set("experiment")} placeholder="e.g. yeast-30C-2026-12" />
        <Field label="Description">
          <textarea rows={3} value={form.description} onInput={set("description")} />
        </Field>
        <Field label="Media" value={form.mediaUsed} onInput={set("mediaUsed")} />
        <Field label="Organism" value={form.organismUsed} onInput={set("organismUsed")} />
        <Button type="submit" kind="primary" busy={action.busy}>
          Create and switch to it
        </Button>
        <ErrorMessage error={action.error} />
      </form>
    </Card>
  );
}

function CurrentExperiment() {
  const { experiment, units, labels, reloadUnits, reloadExperiments, setExperiment, experiments } = useApp();
  const name = experiment.experiment;
  const [description, setDescription] = useState(experiment.description || "");
  const [assigning, setAssigning] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const save = useAction();
  const end = useAction();
  return (
    <Card title={`Current: ${name}`} data-current={name}>
      <p class="muted">
        Started {formatTime(experiment.created_at)} · {experiment.media_used || "media not given"} · {experiment.organism_used || "organism not given"}
      </p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save.run(async () => {
            await api(`/api/experiments/${enc(name)}`, { method: "PATCH", body: { description } });
            await reloadExperiments();
          });
        }}
      >
        <Field label="Description" class="grow" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        <Button type="submit" busy={save.busy}>
          Save
        </Button>
      </form>
      <ErrorMessage error={save.error} />
      <h3>Units and labels</h3>
      {units.length === 0 && <p class="muted">No unit assigned.</p>}
      {units.map((unit) => (
        <LabelForm key={unit} experiment={name} unit={unit} label={labels[unit] || ""} onSaved={reloadUnits} />
      ))}
      <div class="card-actions">
        <Button onClick={() => setAssigning(true)}>Assign units</Button>
        <Button
          busy={end.busy}
          disabled={!units.length}
          onClick={() =>
            confirm(`End ${name}? Every unit is unassigned (its data stays).`) &&
            end.run(async () => {
              await api(`/api/experiments/${enc(name)}/workers`, { method: "DELETE" });
              await reloadUnits();
            })
          }
        >
          End experiment
        </Button>
        <Button kind="danger" onClick={() => setDeleting(true)}>
          Delete…
        </Button>
      </div>
      <ErrorMessage error={end.error} />
      <AssignDialog open={assigning} onClose={() => setAssigning(false)} />
      <DeleteDialog
        open={deleting}
        name={name}
        onClose={() => setDeleting(false)}
        onDeleted={async () => {
          await reloadExperiments();
          setExperiment(experiments.find((e) => e.experiment !== name)?.experiment || null);
        }}
      />
    </Card>
  );
}

function LabelForm({ experiment, unit, label, onSaved }) {
  const [value, setValue] = useState(label);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        action.run(async () => {
          setSaved(false);
          await api(`/api/experiments/${enc(experiment)}/unit_labels`, { method: "PUT", body: { unit, label: value } });
          await onSaved();
          setSaved(true);
        });
      }}
    >
      <Field label={`Label of ${unit}`} value={value} placeholder="e.g. control" onInput={(e) => setValue(e.currentTarget.value)} />
      <Button type="submit" busy={action.busy}>
        Save label
      </Button>
      {saved && <span class="ok">Saved.</span>}
      <ErrorMessage error={action.error} />
    </form>
  );
}

function DeleteDialog({ open, name, onClose, onDeleted }) {
  const [typed, setTyped] = useState("");
  const action = useAction();
  return (
    <Dialog title={`Delete ${name}?`} open={open} onClose={onClose}>
      <p>
        The experiment and its unit assignments are deleted; its readings stay in the database. Type <strong>{name}</strong> to
        confirm.
      </p>
      <Field label="Experiment name" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
      <div class="card-actions">
        <Button
          kind="danger"
          disabled={typed !== name}
          busy={action.busy}
          onClick={() =>
            action.run(async () => {
              await api(`/api/experiments/${enc(name)}`, { method: "DELETE" });
              onClose();
              await onDeleted();
            })
          }
        >
          Delete experiment
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </div>
      <ErrorMessage error={action.error} />
    </Dialog>
  );
}

function AllExperiments() {
  const { experiments, experiment, setExperiment } = useApp();
  const counts = useApi("/api/experiments/assignment_count");
  const count = Object.fromEntries((counts.data || []).map((c) => [c.experiment, c.worker_count]));
  return (
    <Card title="All experiments">
      <ErrorMessage error={counts.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Experiment</th>
              <th scope="col">Started</th>
              <th scope="col">Units</th>
              <th scope="col">
                <span class="sr-only">Switch</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {experiments.map((e) => (
              <tr key={e.experiment} data-experiment={e.experiment}>
                <td>
                  <strong>{e.experiment}</strong>
                  <div class="muted small">{e.description}</div>
                </td>
                <td class="nowrap">{formatTime(e.created_at)}</td>
                <td>{count[e.experiment] ?? 0}</td>
                <td>
                  {experiment?.experiment === e.experiment ? (
                    <span class="badge state-ready">current</span>
                  ) : (
                    <Button kind="small" onClick={() => setExperiment(e.experiment)} aria-label={`Switch to ${e.experiment}`}>
                      Switch to
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
