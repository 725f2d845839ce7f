// Hooks the pages share: data from the API, live MQTT values, the app context.
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import { api, cachedApi } from "./api.js";
import { subscribe } from "./mqtt.js";

export const AppContext = createContext(null);

/** {config, experiment, experiments, setExperiment, reloadExperiments, units, labels, labelOf, toast} */
export function useApp() {
  return useContext(AppContext);
}

/** GET `path` (null: nothing); {data, error, loading, reload}. A new path drops the old data at
 * once, so nothing stale shows while the next answer comes. */
export function useApi(path, { wait = true, cache = false } = {}) {
  const [state, setState] = useState({ data: undefined, error: null, loading: !!path });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) {
      setState({ data: undefined, error: null, loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((s) => ({ data: tick && s.path === path ? s.data : undefined, error: null, loading: true, path }));
    (cache && !tick ? cachedApi(path) : api(path, { signal: controller.signal, wait }))
      .then((data) => !controller.signal.aborted && setState({ data, error: null, loading: false, path }))
      .catch((error) => {
        if (error.name !== "AbortError") setState({ data: undefined, error, loading: false, path });
      });
    return () => controller.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The latest payload of an MQTT topic (retained values included), as text. */
export function useTopic(topic, initial = null) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    setValue(initial);
    if (!topic) return undefined;
    return subscribe(topic, (_t, text) => setValue(text));
  }, [topic]);
  return value;
}

/** Every message of a pattern → a map topic → latest text. */
export function useTopics(pattern) {
  const [values, setValues] = useState({});
  useEffect(() => {
    setValues({});
    if (!pattern) return undefined;
    return subscribe(pattern, (topic, text) => setValues((v) => (v[topic] === text ? v : { ...v, [topic]: text })));
  }, [pattern]);
  return values;
}

/** Runs an async action with busy/error state for buttons and forms. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const alive = useRef(true);
  useEffect(() => () => (alive.current = false), []);
  const run = useCallback(async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      if (alive.current) setError(err);
      return undefined;
    } finally {
      if (alive.current) setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/** Every unit the leader knows: the inventory, the experiment's units and the leader itself. */
export function useAllUnits() {
  const { units, config } = useApp();
  const inventory = useApi("/api/units");
  const leader = config["cluster.topology"]?.leader_hostname;
  const names = new Set([...(inventory.data || []).map((w) => w.pioreactor_unit), ...units]);
  if (leader) names.add(leader);
  return { units: [...names].sort(), inventory, leader };
}
