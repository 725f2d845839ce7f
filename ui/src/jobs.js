// Job control through the leader's API, for one unit or "$broadcast" (every assigned unit).
import { api, ApiError, enc } from "./api.js";

const base = (unit, experiment) => [`/api/workers/${enc(unit)}`, `experiments/${enc(experiment)}`];

/** Throws when a fan-out result ({unit: {ok:false, error}}) says a unit failed. */
function checkEnvelope(result) {
  if (result && typeof result === "object") {
    const failed = Object.values(result).filter((v) => v && typeof v === "object" && v.ok === false);
    if (failed.length)
      throw new ApiError(failed[0].status_code || 500, { error: failed.map((f) => `${f.unit}: ${f.error}`).join("; ") }, "TASK", "");
  }
  return result;
}

/** Starts `job` (202 task followed to its end: throws the job's own error if it did not start). */
export async function startJob(unit, experiment, job, options = {}, { configOverrides = [], args = [] } = {}) {
  const [u, e] = base(unit, experiment);
  return checkEnvelope(
    await api(`${u}/jobs/run/job_name/${enc(job)}/${e}`, {
      method: "PATCH",
      body: { options, args, env: { JOB_SOURCE: "user", EXPERIMENT: experiment }, config_overrides: configOverrides },
    }),
  );
}

export async function stopJob(unit, experiment, job) {
  const [u, e] = base(unit, experiment);
  return checkEnvelope(await api(`${u}/jobs/stop/job_name/${enc(job)}/${e}`, { method: "POST" }));
}

export async function stopAll(unit, experiment) {
  const [u, e] = base(unit, experiment);
  return checkEnvelope(await api(`${u}/jobs/stop/${e}`, { method: "POST" }));
}

/** Publishes new settings ({key: value}); the job confirms on each setting's topic. */
export async function updateSettings(unit, experiment, job, settings) {
  const [u, e] = base(unit, experiment);
  return checkEnvelope(await api(`${u}/jobs/update/job_name/${enc(job)}/${e}`, { method: "PATCH", body: { settings } }));
}

export const pause = (unit, experiment, job) => updateSettings(unit, experiment, job, { $state: "sleeping" });
export const resume = (unit, experiment, job) => updateSettings(unit, experiment, job, { $state: "ready" });

export async function blink(unit) {
  return api(`/api/workers/${enc(unit)}/blink`, { method: "POST" });
}

export const ACTIVE = new Set(["ready", "sleeping", "init"]);

/** A setting's payload (text) as shown to people. */
export function showValue(text, setting) {
  if (text === null || text === undefined || text === "") return "–";
  let value = text;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (value && typeof value === "object") {
    if ("value" in value) value = value.value;
    else return Object.entries(value).filter(([k]) => k !== "timestamp").map(([k, v]) => `${k}: ${typeof v === "number" ? +v.toFixed(2) : v}`).join(", ");
  }
  if (typeof value === "number") return `${+value.toFixed(setting?.type === "numeric" ? 2 : 3)}${setting?.unit ? " " + setting.unit : ""}`;
  if (typeof value === "boolean") return value ? "on" : "off";
  return String(value);
}
