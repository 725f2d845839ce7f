// One MQTT-over-WebSockets connection for the whole app (live data; the UI never publishes).
// Pages call subscribe(pattern, handler) and the returned function to unsubscribe; a topic is
// subscribed on the broker once, however many components listen to it.
// mqtt.js is the biggest dependency: it loads beside the first API calls, not before them
let client = null;
let connecting = null;
const listeners = new Map(); // pattern -> Set(handler)
const statusListeners = new Set();
let status = "connecting";

function setStatus(next) {
  status = next;
  for (const fn of statusListeners) fn(status);
}

export function mqttStatus() {
  return status;
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

/** Connects with the [mqtt] section of config.ini (broker_address may list hosts split by `;`). */
export function connectMqtt(config) {
  connecting = connecting || import("mqtt").then(({ default: mqtt }) => connect(mqtt, config));
  return connecting;
}

function connect(mqtt, config) {
  const section = config.mqtt || {};
  const protocol = section.ws_protocol || (location.protocol === "https:" ? "wss" : "ws");
  const port = section.broker_ws_port || "9001";
  const hosts = (section.broker_address || "localhost")
    .split(";")
    .map((h) => h.trim())
    .filter(Boolean)
    // a broker on this machine's loopback is reached where the page came from
    .map((h) => (h === "localhost" || h === "127.0.0.1" ? location.hostname : h));
  const servers = hosts.map((host) => ({ host, port: Number(port), protocol }));
  client = mqtt.connect({
    servers,
    path: "/mqtt",
    username: section.username || undefined,
    password: section.password || undefined,
    keepalive: 60,
    clean: true,
    connectTimeout: 3000,
    reconnectPeriod: 2000,
    clientId: "pioreactor-ui-" + Math.random().toString(16).slice(2, 10),
  });
  client.on("connect", () => {
    setStatus("connected");
    const patterns = [...listeners.keys()];
    if (patterns.length) client.subscribe(patterns, { qos: 0 });
  });
  client.on("reconnect", () => setStatus("connecting"));
  client.on("offline", () => setStatus("offline"));
  client.on("error", () => setStatus("offline"));
  client.on("message", (topic, payload, packet) => {
    const text = payload.toString();
    for (const [pattern, handlers] of listeners) {
      if (!topicMatches(pattern, topic)) continue;
      for (const handler of handlers) {
        try {
          handler(topic, text, packet.retain);
        } catch (err) {
          console.warn("MQTT handler failed on", topic, err);
        }
      }
    }
  });
  return client;
}

/** Calls handler(topic, text, retained) for each message matching `pattern`. */
export function subscribe(pattern, handler) {
  let handlers = listeners.get(pattern);
  if (!handlers) {
    handlers = new Set();
    listeners.set(pattern, handlers);
    if (client?.connected) client.subscribe(pattern, { qos: 0 });
  }
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0) {
      listeners.delete(pattern);
      if (client?.connected) client.unsubscribe(pattern);
    }
  };
}
