// The REST client: JSON in and out, errors as ApiError (the server's {error, cause,
// remediation}), 202 tasks followed to their result (/unit_api/task_results/<id>).

export class ApiError extends Error {
  constructor(status, body, method, path) {
    const message = (body && (body.error || body.message)) || `${method} ${path} failed (${status})`;
    super(message);
    this.status = status;
    this.cause = body?.cause || null;
    this.remediation = body?.remediation || null;
    this.body = body;
    this.method = method;
    this.path = path;
  }
  describe() {
    return [this.message, this.cause, this.remediation].filter(Boolean).join(" — ");
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new DOMException("aborted", "AbortError"));
    });
  });

async function parse(response) {
  const type = response.headers.get("content-type") || "";
  if (response.status === 204) return null;
  if (type.includes("application/json")) return response.json();
  return response.text();
}

/** `await api("/api/experiments")`; options: method, body (JSON), signal, wait (follow 202
 * tasks, default true), raw (the Response itself). */
export async function api(path, { method = "GET", body, signal, wait = true, headers } = {}) {
  const init = { method, signal, headers: { Accept: "application/json", ...(headers || {}) } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await parse(response);
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { error: data || null }, method, path);
  if (response.status === 202 && wait && data && data.result_url_path) return followTask(data.result_url_path, { signal });
  return data;
}

/** Polls a task until it is done: its `result`, or throws its error. */
export async function followTask(path, { signal, interval = 100, timeout = 120000 } = {}) {
  const deadline = Date.now() + timeout;
  let delay = interval;
  while (Date.now() < deadline) {
    const response = await fetch(path, { signal, headers: { Accept: "application/json" } });
    const data = await parse(response);
    if (response.status === 200) {
      if (data && data.status === "failed") throw new ApiError(500, { error: data.error, cause: data.cause }, "TASK", path);
      return data && "result" in data ? data.result : data;
    }
    if (response.status !== 202) throw new ApiError(response.status, data, "GET", path);
    await sleep(delay, signal);
    delay = Math.min(delay * 1.5, 1000);
  }
  throw new ApiError(504, { error: `the task did not finish within ${timeout / 1000} s` }, "TASK", path);
}

/** The value of one unit in a fan-out result ({unit: {ok, unit, value}}), or throws. */
export function unitValue(result, unit) {
  const entry = result && (result[unit] || Object.values(result)[0]);
  if (!entry) return null;
  if (entry.ok === false) throw new ApiError(entry.status_code || 500, entry, "TASK", unit);
  return "value" in entry ? entry.value : entry;
}

export const enc = encodeURIComponent;

const cache = new Map();
/** GET once per page load, for what does not change while the UI runs (descriptors). */
export function cachedApi(path) {
  if (!cache.has(path)) cache.set(path, api(path).catch((err) => (cache.delete(path), Promise.reject(err))));
  return cache.get(path);
}
