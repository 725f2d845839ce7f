// The MQTT connection lives in a Web Worker: mqtt.js is parsed, run and fed off the main
// thread, which stays free for the charts. The page sends connect/subscribe/unsubscribe and
// receives status changes and messages (payloads as text).
import mqtt from "mqtt";

let client = null;

function connect({ servers, username, password }) {
  client = mqtt.connect({
    servers,
    path: "/mqtt",
    username,
    password,
    keepalive: 60,
    clean: true,
    connectTimeout: 3000,
    reconnectPeriod: 2000,
    clientId: "pioreactor-ui-" + Math.random().toString(16).slice(2, 10),
  });
  client.on("connect", () => postMessage({ type: "status", status: "connected" }));
  client.on("reconnect", () => postMessage({ type: "status", status: "connecting" }));
  client.on("offline", () => postMessage({ type: "status", status: "offline" }));
  client.on("error", () => postMessage({ type: "status", status: "offline" }));
  client.on("message", (topic, payload, packet) => postMessage({ type: "message", topic, text: payload.toString(), retain: packet.retain }));
}

onmessage = ({ data }) => {
  if (data.type === "connect") connect(data);
  // the page learns when the broker acknowledged a subscription: only then are messages sure to arrive
  else if (data.type === "subscribe") client?.subscribe(data.topics, { qos: 0 }, () => postMessage({ type: "subscribed", id: data.id }));
  else if (data.type === "unsubscribe") client?.unsubscribe(data.topics);
};
