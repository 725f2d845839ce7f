// Calibrations of every unit, by device: the curve plotted with its measured points, set one
// active (or none), delete, and add one from YAML.
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { Button, Card, ErrorMessage, Field, Loading, UnitErrorRow, formatTime, unitRows } from "../components/ui.jsx";
import { XYPlot, polynomial } from "../components/XYPlot.jsx";
import { useAction, useApi } from "../hooks.js";

export default function Calibrations() {
  const all = useApi("/api/workers/$broadcast/calibrations");
  const [selected, setSelected] = useState(null);
  const action = useAction();
  const rows = unitRows(all.data, (unit, byDevice) =>
    Object.entries(byDevice || {}).flatMap(([device, list]) => list.map((cal) => ({ unit, device, cal }))),
  );
  const act = (fn) =>
    action.run(async () => {
      await fn();
      all.reload();
    });
  const current = selected && rows.find((r) => r.cal && r.unit === selected.unit && r.device === selected.device && r.cal.calibration_name === selected.name);
  return (
    <div class="page">
      <h1>Calibrations</h1>
      <ErrorMessage error={all.error || action.error} />
      <div class="two-columns">
        <Card title="Every unit's calibrations">
          {all.loading && <Loading />}
          {all.data && rows.length === 0 && <p class="muted">No calibration yet: run `pio calibrations run` on a unit, or add one here.</p>}
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Unit</th>
                  <th scope="col">Device</th>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Active</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) =>
                  r.error ? (
                    <UnitErrorRow key={i} unit={r.unit} error={r.error} columns={5} />
                  ) : (
                    <tr key={i} data-calibration={`${r.unit}/${r.device}/${r.cal.calibration_name}`}>
                      <td>{r.unit}</td>
                      <td>{r.device}</td>
                      <td>
                        <button type="button" class="linklike" onClick={() => setSelected({ unit: r.unit, device: r.device, name: r.cal.calibration_name })}>
                          {r.cal.calibration_name}
                        </button>
                      </td>
                      <td class="nowrap">{formatTime(r.cal.created_at)}</td>
                      <td>
                        {r.cal.is_active ? (
                          <Button
                            kind="small"
                            onClick={() => act(() => api(`/api/workers/${enc(r.unit)}/active_calibrations/${enc(r.device)}`, { method: "DELETE" }))}
                            aria-label={`Set ${r.cal.calibration_name} inactive`}
                          >
                            Active ✓
                          </Button>
                        ) : (
                          <Button
                            kind="small"
                            onClick={() =>
                              act(() => api(`/api/workers/${enc(r.unit)}/active_calibrations/${enc(r.device)}/${enc(r.cal.calibration_name)}`, { method: "PATCH" }))
                            }
                            aria-label={`Set ${r.cal.calibration_name} active`}
                          >
                            Set active
                          </Button>
                        )}
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        </Card>
        <div>
          {current && <CalibrationDetail row={current} onDelete={() => act(async () => {
            if (!confirm(`Delete ${current.cal.calibration_name}?`)) return;
            await api(`/api/workers/${enc(current.unit)}/calibrations/${enc(current.device)}/${enc(current.cal.calibration_name)}`, { method: "DELETE" });
            setSelected(null);
          })} />}
          <AddCalibration onAdded={all.reload} />
        </div>
      </div>
    </div>
  );
}

function CalibrationDetail({ row, onDelete }) {
  const { cal, unit, device } = row;
  const curve = cal.curve_data_?.type === "poly" && Array.isArray(cal.curve_data_.coefficients) ? polynomial(cal.curve_data_.coefficients) : null;
  const points = cal.recorded_data || { x: [], y: [] };
  return (
    <Card title={`${cal.calibration_name} (${unit}, ${device})`} actions={<Button kind="small danger" onClick={onDelete}>Delete</Button>}>
      <XYPlot points={points} curve={curve} labels={{ x: cal.x, y: cal.y }} title={`${cal.y} against ${cal.x}`} />
      <dl class="facts">
        <dt>Type</dt>
        <dd>{cal.calibration_type}</dd>
        <dt>Curve</dt>
        <dd>
          {cal.curve_data_?.type}: {JSON.stringify(cal.curve_data_?.coefficients)}
        </dd>
        <dt>Points</dt>
        <dd>{points.x.length}</dd>
      </dl>
    </Card>
  );
}

function AddCalibration({ onAdded }) {
  const [unit, setUnit] = useState("");
  const [device, setDevice] = useState("");
  const [yaml, setYaml] = useState("");
  const action = useAction();
  const [done, setDone] = useState(false);
  const units = useApi("/api/units");
  return (
    <Card title="Add a calibration (YAML)">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setDone(false);
          action.run(async () => {
            await api(`/api/workers/${enc(unit)}/calibrations/${enc(device)}`, { method: "POST", body: { calibration_data: yaml } });
            setDone(true);
            onAdded();
          });
        }}
      >
        <Field label="Unit" value={unit} required list="units" onInput={(e) => setUnit(e.currentTarget.value)} />
        <datalist id="units">
          {(units.data || []).map((u) => (
            <option key={u.pioreactor_unit} value={u.pioreactor_unit} />
          ))}
        </datalist>
        <Field label="Device" value={device} required placeholder="media_pump, od90…" onInput={(e) => setDevice(e.currentTarget.value)} />
        <Field label="Calibration YAML">
          <textarea class="code" rows={8} required value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} />
        </Field>
        <Button type="submit" busy={action.busy}>
          Add
        </Button>
        {done && <span class="ok"> Added.</span>}
        <ErrorMessage error={action.error} />
      </form>
    </Card>
  );
}
