// A time-series chart of one chart descriptor: history from the REST time series (down-sampled
// by the server), then live points from MQTT. uPlot draws thousands of points smoothly.
import uPlot from "uplot";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { subscribe } from "../mqtt.js";
import { colorOf } from "../colors.js";
import { ErrorMessage } from "./ui.jsx";

const TARGET_POINTS = 720;
// what the server gives at most: a chart that is not down-sampled (events) asks for every point
const ALL_POINTS = 100000;
const REDRAW_MS = 500;

function seconds(iso) {
  return Date.parse(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z") / 1000;
}

/** Values of a live payload: [[seriesSuffix, y, tSeconds]] ("" for the unit's own series).
 * `seriesKey` is the payload field that names a series within a unit (an LED's channel, a dose's
 * event): `-<its value>` is the suffix, as the server names that series in history. */
export function liveValues(text, payloadKey, seriesKey = "channel") {
  let value;
  let t = Date.now() / 1000;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  let suffix = "";
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if (value.timestamp) t = seconds(value.timestamp);
    // an event of one channel ({channel: "A", intensity: 10}) or kind ({event: "add_media",
    // volume_change: 0.5}): that series, as in history
    const named = seriesKey ? value[seriesKey] : undefined;
    if (typeof named === "string" || typeof named === "number") suffix = `-${named}`;
    value = payloadKey && payloadKey in value ? value[payloadKey] : value.value ?? value;
  }
  if (typeof value === "number") return [[suffix, value, t]];
  if (value && typeof value === "object") {
    // {channel: {od, timestamp...}} (od_reading/ods): one series per channel
    return Object.entries(value)
      .filter(([, v]) => v && typeof v === "object" && typeof v.od === "number")
      .map(([channel, v]) => [`-${channel}`, v.od, v.timestamp ? seconds(v.timestamp) : t]);
  }
  return [];
}

/** uPlot's data; `holdUntil` (seconds) repeats each series' last value up to then: a stepped
 * chart's value (an LED's intensity) holds until it changes, so its line reaches now. */
function buildData(series, names, mode, origin, holdUntil = null) {
  const tables = names.map((name) => {
    const s = series.get(name);
    let [xs, ys] = [s.xs, s.ys];
    if (holdUntil !== null && xs.length && xs[xs.length - 1] < holdUntil) [xs, ys] = [[...xs, holdUntil], [...ys, ys[ys.length - 1]]];
    return [mode === "hours" ? xs.map((x) => (x - origin) / 3600) : xs, ys];
  });
  if (tables.length === 0) return [[]];
  if (tables.length === 1) return [tables[0][0], tables[0][1]];
  return uPlot.join(tables);
}

/**
 * props: chart (descriptor), experiment, unit (only this unit, or all), lookback (hours, or
 * "now" for live data only), timeMode ("clock" | "hours"), createdAt (ISO), labelOf(unit).
 */
export function Chart({ chart, experiment, unit = null, units = [], lookback = 12, timeMode = "clock", createdAt, labelOf = (u) => u }) {
  const box = useRef(null);
  const plot = useRef(null);
  const series = useRef(new Map());
  const [error, setError] = useState(null);
  const [counts, setCounts] = useState({ points: 0, live: 0, loading: true });
  const [names, setNames] = useState([]);
  const live = useRef(0);
  const dirty = useRef(false);

  const origin = createdAt ? seconds(createdAt) : 0;
  const decimals = chart.fixed_decimals ?? 3;
  const stepped = chart.interpolation === "stepAfter";
  // discrete events (doses): a marker each, no line between them
  const points = chart.interpolation === "points";
  // the redraw timer reads the latest display options through this ref
  const opts = useRef({});
  opts.current = { timeMode, origin, labelOf, units };

  // history, then live points; everything resets when the experiment or the window changes
  useEffect(() => {
    series.current = new Map();
    live.current = 0;
    setNames([]);
    setError(null);
    setCounts({ points: 0, live: 0, loading: true });
    const controller = new AbortController();
    let cancelled = false;
    const windowStart = () => (lookback === "now" ? startedAt : Date.now() / 1000 - Number(lookback) * 3600);
    const startedAt = Date.now() / 1000;

    const add = (name, x, y, who = null, channel = null) => {
      let s = series.current.get(name);
      if (!s) {
        if (who === null) [who, channel] = splitName(name, opts.current.units, chart);
        s = { xs: [], ys: [], who, channel };
        series.current.set(name, s);
      }
      const last = s.xs.length ? s.xs[s.xs.length - 1] : -Infinity;
      if (x <= last) return false; // out of order, or the same message twice (overlapping subscriptions)
      s.xs.push(x);
      s.ys.push(y);
      return true;
    };

    const column = chart.data_source_column ? `/${enc(chart.data_source_column)}` : "";
    const query = new URLSearchParams({ target_points: chart.down_sample === false ? ALL_POINTS : TARGET_POINTS, lookback });
    if (chart.series_key) query.set("series_key", chart.series_key);
    if (stepped) query.set("hold", "1"); // the value set before the window holds at its start
    const base = unit ? `/api/workers/${enc(unit)}/experiments/${enc(experiment)}` : `/api/experiments/${enc(experiment)}`;
    const history =
      lookback === "now"
        ? Promise.resolve(null)
        : api(`${base}/time_series/${enc(chart.data_source)}${column}?${query}`, {
            signal: controller.signal,
          });

    // live messages that arrive while the history loads wait for it, then append
    const pending = [];
    let historyDone = false;
    const topics = (Array.isArray(chart.mqtt_topic) ? chart.mqtt_topic : [chart.mqtt_topic]).filter(Boolean);
    const unsubscribes = topics.map((topic) =>
      subscribe(`pioreactor/${unit || "+"}/${experiment}/${topic}`, (t, text, retained) => {
        if (retained) return; // a retained value is old: history has it already
        const who = t.split("/")[1];
        for (const [suffix, y, x] of liveValues(text, chart.payload_key, chart.series_key ?? "channel")) {
          const channel = suffix ? suffix.slice(1) : null;
          if (!historyDone) pending.push([who + suffix, x, y, who, channel]);
          else if (add(who + suffix, x, y, who, channel)) {
            live.current += 1;
            dirty.current = true;
          }
        }
      }),
    );

    history
      .then((answer) => {
        if (cancelled) return;
        performance.mark?.(`chart-history:${chart.chart_key}`);
        if (answer) {
          answer.series.forEach((name, i) => {
            for (const point of answer.data[i] || []) if (point.y !== null) add(name, seconds(point.x), point.y);
          });
        }
        historyDone = true;
        for (const [name, x, y, who, channel] of pending) if (add(name, x, y, who, channel)) live.current += 1;
        dirty.current = true;
        flush();
        performance.mark?.(`chart-drawn:${chart.chart_key}`);
      })
      .catch((err) => {
        if (err.name === "AbortError") return;
        historyDone = true;
        setError(err);
        setCounts({ points: 0, live: 0, loading: false });
      });

    // redraw at most every REDRAW_MS (at once when the history arrives), trimming what left the window
    const flush = () => {
      if (!dirty.current) return;
      dirty.current = false;
      if (lookback !== "now") {
        const start = windowStart();
        for (const s of series.current.values()) {
          let k = 0;
          while (k < s.xs.length - 1 && s.xs[k] < start) k++;
          if (stepped) {
            // a stepped value set before the window still holds: it moves to the window's start
            if (k > 0 && s.xs[k] > start) k -= 1;
            if (s.xs[k] < start) s.xs[k] = start;
          }
          if (k) {
            s.xs.splice(0, k);
            s.ys.splice(0, k);
          }
        }
      }
      let points = 0;
      for (const s of series.current.values()) points += s.xs.length;
      draw();
      setCounts({ points, live: live.current, loading: !historyDone });
      setNames([...series.current.keys()].sort());
    };
    const timer = setInterval(flush, REDRAW_MS);

    return () => {
      cancelled = true;
      controller.abort();
      clearInterval(timer);
      unsubscribes.forEach((u) => u());
    };
  }, [chart.chart_key, experiment, unit, lookback]);

  function draw() {
    const current = [...series.current.keys()].sort();
    const data = buildData(series.current, current, opts.current.timeMode, opts.current.origin, stepped ? Date.now() / 1000 : null);
    if (plot.current && plot.current.pioKey === plotKey(current)) plot.current.setData(data);
    else create(current, data);
  }

  // a plot is re-created only when its series, time axis or labels change
  function plotKey(current) {
    return `${current.join(",")}|${opts.current.timeMode}|${current.map((n) => opts.current.labelOf(series.current.get(n)?.who || n)).join(",")}`;
  }

  function create(current, data) {
    plot.current?.destroy();
    plot.current = null;
    if (!box.current || current.length === 0) return;
    const width = box.current.clientWidth || 600;
    const { timeMode: mode, labelOf: label } = opts.current;
    const hours = mode === "hours";
    plot.current = new uPlot(
      {
        width,
        height: 240,
        scales: { x: { time: !hours } },
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        axes: [
          { values: hours ? (_u, ticks) => ticks.map((v) => `${+v.toFixed(1)} h`) : undefined, stroke: "#555" },
          { label: chart.y_axis_label || "", stroke: "#555", size: 60 },
        ],
        series: [
          { label: hours ? "Hours elapsed" : "Time", value: hours ? (_u, v) => (v == null ? "" : `${v.toFixed(2)} h`) : "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" },
          ...current.map((name) => {
            const { who, channel } = series.current.get(name);
            const color = colorOf(who);
            return {
              label: label(who) + (channel ? ` (${channel})` : ""),
              stroke: color,
              dash: DASHES[channel],
              width: 1.5,
              paths: points ? () => null : stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
              spanGaps: !points,
              points: points ? eventMarker(color, channel) : { show: false },
              value: (_u, v) => (v == null ? "–" : v.toFixed(decimals)),
            };
          }),
        ],
      },
      data,
      box.current,
    );
    plot.current.pioKey = plotKey(current);
  }

  // redraw when the display mode changes; follow the container's width
  useEffect(() => {
    if (series.current.size) draw();
  }, [timeMode, names.join(","), labelOf]);

  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 240 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  const empty = !counts.loading && counts.points === 0;
  return (
    <figure class="chart" data-chart={chart.chart_key} data-points={counts.points} data-live-points={counts.live} data-loading={counts.loading ? "1" : "0"}>
      <figcaption>{chart.title}</figcaption>
      <ErrorMessage error={error} />
      <div ref={box} class="chart-plot" role="img" aria-label={`${chart.title} chart`} />
      {counts.loading && <p class="muted chart-note">Loading…</p>}
      {empty && !error && <p class="muted chart-note">No data yet{lookback === "now" ? ": waiting for live readings" : ""}.</p>}
    </figure>
  );
}

/** An event's marker: a dot when liquid went in, a wider ring when it came out (a dose and the
 * waste removed just after it then show as a ringed dot, neither hiding the other). */
function eventMarker(color, channel) {
  const out = /^remove/.test(channel || "");
  return { show: true, size: out ? 11 : 7, width: 1.5, stroke: color, fill: out ? "rgba(0,0,0,0)" : color };
}

// tables split by channel whose descriptors (an upstream YAML) may not say so
const CHANNEL_TABLES = new Set(["od_readings", "raw_od_readings", "led_change_events"]);
// a unit's channels in one colour: channel 2 (OD's usual) and LED A solid, the others dashed
const DASHES = { 1: [6, 3], 3: [2, 3], 4: [10, 3, 2, 3], B: [6, 3], C: [2, 3], D: [10, 3, 2, 3] };

/** [unit, channel] of a series name from the server: `unit1`, or `unit1-2`, `unit1-add_media`
 * (a chart with a series_key, or a table with a channel column); unit names may contain dashes
 * themselves, the series' value never does. */
export function splitName(name, units, chart) {
  if (units.includes(name)) return [name, null];
  const m = name.match(/^(.*)-([A-Za-z0-9_]+)$/);
  if (m && (units.includes(m[1]) || chart.series_key || CHANNEL_TABLES.has(chart.data_source))) return [m[1], m[2]];
  return [name, null];
}
