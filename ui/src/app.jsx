// The app shell: the side navigation, the experiment picker, the page of the current route.
// The current experiment comes from the server (newest first) or the user's last choice; every
// page is keyed by it, so switching experiments throws away the old page and its data.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, enc } from "./api.js";
import { AppContext } from "./hooks.js";
import { parseIni } from "./ini.js";
import { connectMqtt, mqttPendingSubscriptions, mqttStatus, onMqttStatus, subscribe } from "./mqtt.js";
import { Link, matchRoute, useLocation } from "./router.jsx";
import { ROUTES } from "./routes.js";
import { getItem, setItem } from "./storage.js";
import { setUnitOrder } from "./colors.js";
import { ErrorMessage, Loading } from "./components/ui.jsx";

const loaded = new Map(); // route path -> page component, once its module arrived

function usePage(route) {
  const [, setTick] = useState(0);
  const [error, setError] = useState(null);
  const Page = route ? loaded.get(route.path) : null;
  useEffect(() => {
    if (!route || loaded.has(route.path)) return;
    route
      .load()
      .then((module) => {
        loaded.set(route.path, module.default);
        setTick((t) => t + 1);
      })
      .catch(setError);
  }, [route]);
  return { Page, error };
}

function MqttIndicator() {
  const [status, setStatus] = useState(mqttStatus());
  const [pending, setPending] = useState(mqttPendingSubscriptions());
  useEffect(
    () =>
      onMqttStatus((next, waiting) => {
        setStatus(next);
        setPending(waiting);
      }),
    [],
  );
  const text = { connected: "Live", connecting: "Connecting…", offline: "Offline" }[status] || status;
  return (
    <span class={`live live-${status}`} role="status" title="Live data from the MQTT broker" data-mqtt={status} data-mqtt-pending={pending}>
      {text}
    </span>
  );
}

function Toasts({ experiment }) {
  const [toasts, setToasts] = useState([]);
  useEffect(() => {
    if (!experiment) return undefined;
    const show = (topic, text) => {
      let message = text;
      try {
        message = JSON.parse(text).message || text;
      } catch {
        /* plain text */
      }
      const [, unit, , , task, level] = topic.split("/");
      const id = Math.random();
      setToasts((t) => [...t.slice(-3), { id, unit, task, level, message }]);
      setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 8000);
    };
    const offs = ["error", "notice"].flatMap((level) => [
      subscribe(`pioreactor/+/${experiment}/logs/+/${level}`, (t, x, retained) => !retained && show(t, x)),
      subscribe(`pioreactor/+/$experiment/logs/+/${level}`, (t, x, retained) => !retained && show(t, x)),
    ]);
    return () => offs.forEach((off) => off());
  }, [experiment]);
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.level}`}>
          <strong>
            {t.unit} · {t.task}
          </strong>{" "}
          {t.message}
          <button type="button" class="btn icon" aria-label="Dismiss" onClick={() => setToasts((all) => all.filter((x) => x.id !== t.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function App() {
  const { path, query } = useLocation();
  const [config, setConfig] = useState(null);
  const [experiments, setExperiments] = useState(null);
  const [chosen, setChosen] = useState(getItem("experiment"));
  const [units, setUnits] = useState([]);
  const [labels, setLabels] = useState({});
  const [fatal, setFatal] = useState(null);
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    api("/api/config/shared")
      .then((text) => {
        const parsed = parseIni(text);
        setConfig(parsed);
        connectMqtt(parsed);
      })
      .catch(setFatal);
  }, []);

  const reloadExperiments = useCallback(
    () =>
      api("/api/experiments")
        .then(setExperiments)
        .catch(setFatal),
    [],
  );
  useEffect(() => {
    reloadExperiments();
  }, []);

  const experiment = useMemo(() => {
    if (!experiments) return null;
    return experiments.find((e) => e.experiment === chosen) || experiments[0] || null;
  }, [experiments, chosen]);
  const name = experiment?.experiment || null;

  const unitsRequest = useRef(0);
  const reloadUnits = useCallback(() => {
    const request = ++unitsRequest.current; // a late answer for another experiment is dropped
    if (!name) {
      setUnits([]);
      setLabels({});
      return Promise.resolve();
    }
    return Promise.all([api(`/api/experiments/${enc(name)}/workers`), api(`/api/experiments/${enc(name)}/unit_labels`)])
      .then(([workers, unitLabels]) => {
        if (request !== unitsRequest.current) return;
        const list = workers.map((w) => w.pioreactor_unit).sort();
        setUnitOrder(list);
        setUnits(list);
        setLabels(unitLabels || {});
      })
      .catch(setFatal);
  }, [name]);
  useEffect(() => {
    setUnits([]);
    setLabels({});
    reloadUnits();
  }, [name]);

  const setExperiment = useCallback((value) => {
    setItem("experiment", value);
    setChosen(value);
  }, []);
  const labelOf = useCallback((unit) => (labels[unit] ? `${labels[unit]} (${unit})` : unit), [labels]);

  const match = matchRoute(ROUTES, path);
  const { Page, error: pageError } = usePage(match?.route);
  useEffect(() => {
    document.title = `${match?.route.title || "Not found"} · Pioreactor`;
    setMenuOpen(false);
  }, [path]);

  const context = {
    config: config || {},
    experiment,
    experiments: experiments || [],
    setExperiment,
    reloadExperiments,
    units,
    labels,
    labelOf,
    reloadUnits,
  };

  let body;
  let ready = true; // main[data-page] tells tests (and screen readers, aria-busy) the page is there
  if (fatal) body = <ErrorMessage error={fatal} title="The web server did not answer" />;
  else if (!config || !experiments) (body = <Loading />), (ready = false);
  else if (!match) body = <NotFound path={path} />;
  else if (pageError) body = <ErrorMessage error={pageError} title="This page did not load" />;
  else if (!Page) (body = <Loading />), (ready = false);
  else body = <Page key={`${path}|${name}`} params={match.params} query={query} />;

  return (
    <AppContext.Provider value={context}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button type="button" class="btn icon menu-toggle" aria-label="Menu" aria-expanded={menuOpen ? "true" : "false"} onClick={() => setMenuOpen(!menuOpen)}>
          ☰
        </button>
        <Link href="/overview" class="brand">
          Pioreactor
        </Link>
        <ExperimentPicker experiments={experiments || []} current={name} onChange={setExperiment} />
        <MqttIndicator />
      </header>
      <div class="layout">
        <nav class={menuOpen ? "sidenav open" : "sidenav"} aria-label="Pages">
          <ul>
            {ROUTES.filter((r) => r.nav).map((r) => (
              <li key={r.path}>
                <Link href={r.path} aria-current={isCurrent(r.path, path) ? "page" : undefined}>
                  {r.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1} data-page={ready ? match?.route.path || "404" : undefined} aria-busy={ready ? undefined : "true"}>
          {body}
        </main>
      </div>
      <Toasts experiment={name} />
    </AppContext.Provider>
  );
}

function isCurrent(href, path) {
  return path === href || path.startsWith(href + "/") || (href === "/overview" && path === "/");
}

function ExperimentPicker({ experiments, current, onChange }) {
  if (!experiments.length) return <span class="muted">No experiment yet</span>;
  return (
    <label class="picker">
      <span class="sr-only">Experiment</span>
      <select aria-label="Experiment" value={current || ""} onChange={(e) => onChange(e.currentTarget.value)}>
        {experiments.map((e) => (
          <option key={e.experiment} value={e.experiment}>
            {e.experiment}
          </option>
        ))}
      </select>
    </label>
  );
}

function NotFound({ path }) {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link href="/overview">Go to the overview</Link>.
      </p>
    </div>
  );
}
