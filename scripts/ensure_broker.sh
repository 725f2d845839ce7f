#!/usr/bin/env bash
# Start Mosquitto on localhost:1883 unless a broker already listens there, with a WebSockets
# listener on $WS_PORT (default 9001, [mqtt] broker_ws_port) for the web UI's live data.
set -euo pipefail
port=1883
ws_port=${WS_PORT:-9001}
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "An MQTT broker is already running on localhost:$port."
    exit 0
fi
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
mkdir -p .demo
cat > .demo/mosquitto.conf <<CONF
per_listener_settings false
allow_anonymous true
listener $port 127.0.0.1
listener $ws_port 127.0.0.1
protocol websockets
# keep queued QoS 1 messages of persistent sessions across broker restarts (mqtt_to_db_streaming)
persistence true
persistence_location $(pwd)/.demo/
autosave_interval 10
max_queued_messages 0
max_inflight_messages 1000
user $(id -un)
CONF
"$mosquitto_bin" -c .demo/mosquitto.conf -d
for _ in $(seq 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "Started Mosquitto on localhost:$port, WebSockets on $ws_port (stop it with: pkill -f .demo/mosquitto.conf)."
        exit 0
    fi
    sleep 0.1
done
echo "Mosquitto did not start on localhost:$port." >&2
exit 1
