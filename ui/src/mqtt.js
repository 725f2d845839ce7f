// One MQTT-over-WebSockets connection for the whole app (live data; the UI never publishes),
// run in a Web Worker (mqtt-worker.js). Pages call subscribe(pattern, handler) and the returned
// function to unsubscribe; a topic is subscribed on the broker once, however many listen.
/* global __MQTT_WORKER__ */

let worker = null;
const listeners = new Map(); // pattern -> Set(handler)
const statusListeners = new Set();
let status = "connecting";
const unacknowledged = new Set(); // ids of subscribe requests the broker has not acknowledged yet
let nextRequest = 0;

function notify() {
  for (const fn of statusListeners) fn(status, unacknowledged.size);
}

function setStatus(next) {
  status = next;
  if (next !== "connected") unacknowledged.clear(); // a new connection subscribes everything again
  notify();
}

function requestSubscribe(topics) {
  const id = nextRequest++;
  unacknowledged.add(id);
  worker.postMessage({ type: "subscribe", topics, id });
}

export function mqttStatus() {
  return status;
}

/** How many subscriptions wait for the broker's acknowledgement (messages before it may be missed). */
export function mqttPendingSubscriptions() {
  return unacknowledged.size;
}

export function onMqttStatus(fn) {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

/** Does `topic` match the MQTT `pattern` (with + and #)? */
export function topicMatches(pattern, topic) {
  const p = pattern.split("/");
  const t = topic.split("/");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "#") return true;
    if (i >= t.length) return false;
    if (p[i] !== "+" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

function dispatch(topic, text, retain) {
  for (const [pattern, handlers] of listeners) {
    if (!topicMatches(pattern, topic)) continue;
    for (const handler of handlers) {
      try {
        handler(topic, text, retain);
      } catch (err) {
        console.warn("MQTT handler failed on", topic, err);
      }
    }
  }
}

/** Connects with the [mqtt] section of config.ini (broker_address may list hosts split by `;`). */
export function connectMqtt(config) {
  if (worker) return;
  const section = config.mqtt || {};
  const protocol = section.ws_protocol || (location.protocol === "https:" ? "wss" : "ws");
  const port = Number(section.broker_ws_port || 9001);
  const servers = (section.broker_address || "localhost")
    .split(";")
    .map((h) => h.trim())
    .filter(Boolean)
    // a broker on the leader's loopback is reached where the page came from
    .map((host) => ({ host: host === "localhost" || host === "127.0.0.1" ? location.hostname : host, port, protocol }));
  worker = new Worker(__MQTT_WORKER__, { type: "module" });
  worker.onmessage = ({ data }) => {
    if (data.type === "message") dispatch(data.topic, data.text, data.retain);
    else if (data.type === "subscribed") {
      if (unacknowledged.delete(data.id)) notify();
    } else if (data.type === "status") {
      if (data.status === "connected" && listeners.size) requestSubscribe([...listeners.keys()]);
      setStatus(data.status);
    }
  };
  worker.onerror = (event) => {
    console.warn("the MQTT worker failed:", event.message);
    setStatus("offline");
  };
  worker.postMessage({ type: "connect", servers, username: section.username || undefined, password: section.password || undefined });
}

/** Calls handler(topic, text, retained) for each message matching `pattern`. */
export function subscribe(pattern, handler) {
  let handlers = listeners.get(pattern);
  if (!handlers) {
    handlers = new Set();
    listeners.set(pattern, handlers);
    if (status === "connected" && worker) {
      requestSubscribe([pattern]);
      notify();
    }
  }
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0) {
      listeners.delete(pattern);
      if (status === "connected") worker?.postMessage({ type: "unsubscribe", topics: [pattern] });
    }
  };
}
