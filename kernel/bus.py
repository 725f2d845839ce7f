"""The MQTT bus: one paho-mqtt 2.x client per process.

It subscribes with callbacks, re-subscribes after every reconnect, keeps at most
``[mqtt] max_queued_messages`` outgoing messages while the broker is unreachable (and says so
in the log), and runs the callbacks that re-publish a job's retained state after a reconnect.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from pioreactor.kernel.config import Config, get_config

log = logging.getLogger("pioreactor.bus")

Payload = str | bytes | bytearray | None
MessageCallback = Callable[["Message"], None]


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 0

    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Will:
    """The last will: published by the broker if this process vanishes without a goodbye."""

    topic: str
    payload: str
    qos: int = 1
    retain: bool = True


@dataclass
class Subscription:
    topic_filter: str
    callback: MessageCallback
    qos: int
    allow_retained: bool


@dataclass
class _Pending:
    topic: str
    payload: Payload
    qos: int
    retain: bool


@dataclass
class BrokerSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False
    keepalive: int = 60
    max_queued: int = 100
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> BrokerSettings:
        return cls(
            host=config.get("mqtt", "broker_address"),
            port=config.getint("mqtt", "broker_port"),
            username=config.get("mqtt", "username", fallback=""),
            password=config.get("mqtt", "password", fallback=""),
            use_tls=config.getboolean("mqtt", "use_tls"),
            keepalive=config.getint("mqtt", "keepalive_seconds"),
            max_queued=config.getint("mqtt", "max_queued_messages"),
        )


class Bus:
    """A connected MQTT client with subscriptions that survive reconnects."""

    def __init__(
        self,
        name: str,
        *,
        will: Will | None = None,
        settings: BrokerSettings | None = None,
        clean_session: bool = True,
        client_id: str | None = None,
    ) -> None:
        self.settings = settings or BrokerSettings.from_config(get_config())
        self.name = name
        self.client_id = client_id or f"{name}-{secrets.token_hex(2)}"
        self.connected = threading.Event()
        self._ever_connected = False
        self._closing = False
        self._lock = threading.RLock()
        self._subscriptions: list[Subscription] = []
        self._reconnect_callbacks: list[Callable[[], None]] = []
        self._queue: deque[_Pending] = deque()
        self._dropped = 0
        self._said_queueing = False
        self._last_info: mqtt.MQTTMessageInfo | None = None

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password or None)
        if self.settings.use_tls:
            client.tls_set()
        if will is not None:
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        # MQTT packets are small: without this, Nagle's algorithm holds them back ~40 ms
        client.on_socket_open = _no_delay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    # -- connection ------------------------------------------------------------------------
    def connect(self, timeout: float = 5.0) -> bool:
        """Start connecting in the background and wait up to ``timeout`` s for the first connection.

        If the broker is unreachable the client keeps retrying; publishes are queued meanwhile.
        """
        self.client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            log.warning(
                "Cannot reach the MQTT broker at %s:%s yet; retrying in the background. "
                "Check [mqtt] broker_address and broker_port, and that the broker is running.",
                self.settings.host,
                self.settings.port,
            )
            return False
        return True

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error(
                "The MQTT broker at %s:%s refused the connection: %s. Check [mqtt] username and password.",
                self.settings.host,
                self.settings.port,
                reason,
            )
            return
        with self._lock:
            for sub in self._subscriptions:
                client.subscribe(sub.topic_filter, qos=sub.qos)
            reconnected = self._ever_connected
            self._ever_connected = True
            self.connected.set()
            queued = list(self._queue)
            self._queue.clear()
            dropped, self._dropped = self._dropped, 0
            self._said_queueing = False
        for item in queued:
            client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
        if reconnected:
            log.info("Reconnected to the MQTT broker at %s:%s.", self.settings.host, self.settings.port)
        if queued or dropped:
            log.warning(
                "Sent %d queued messages after reconnecting; %d older ones were dropped.",
                len(queued),
                dropped,
            )
        if reconnected:
            for callback in list(self._reconnect_callbacks):
                try:
                    callback()
                except Exception:
                    log.exception("A reconnect callback failed")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self.connected.clear()
        if not self._closing:
            log.warning(
                "Lost the connection to the MQTT broker at %s:%s (%s); reconnecting.",
                self.settings.host,
                self.settings.port,
                reason,
            )

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each reconnect (not the first connect), once subscriptions are back."""
        self._reconnect_callbacks.append(callback)

    # -- publishing ------------------------------------------------------------------------
    def publish(
        self, topic: str, payload: Payload, *, qos: int = 0, retain: bool = False
    ) -> mqtt.MQTTMessageInfo | None:
        if self._closing:  # e.g. a log line emitted while the process winds down
            return None
        with self._lock:
            if not self.connected.is_set():
                self._enqueue(_Pending(topic, payload, qos, retain))
                return None
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        self._last_info = info
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos == 0:
            with self._lock:
                self._enqueue(_Pending(topic, payload, qos, retain))
        return info

    def _enqueue(self, item: _Pending) -> None:
        if not self._said_queueing:
            self._said_queueing = True
            log.warning(
                "Not connected to the MQTT broker: keeping up to %d messages until it is back.",
                self.settings.max_queued,
            )
        if len(self._queue) >= self.settings.max_queued:
            self._queue.popleft()
            self._dropped += 1
        self._queue.append(item)

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- subscribing -----------------------------------------------------------------------
    def subscribe(
        self, topic_filter: str, callback: MessageCallback, *, qos: int = 1, allow_retained: bool = True
    ) -> Subscription:
        sub = Subscription(topic_filter, callback, qos, allow_retained)
        with self._lock:
            self._subscriptions.append(sub)
            if self.connected.is_set():
                self.client.subscribe(topic_filter, qos=qos)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
            still_used = any(s.topic_filter == sub.topic_filter for s in self._subscriptions)
            if not still_used and self.connected.is_set():
                self.client.unsubscribe(sub.topic_filter)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos)
        with self._lock:
            subs = list(self._subscriptions)
        for sub in subs:
            if message.retain and not sub.allow_retained:
                continue
            if mqtt.topic_matches_sub(sub.topic_filter, message.topic):
                try:
                    sub.callback(message)
                except Exception:
                    log.exception("Handling a message on %s failed", message.topic)

    # -- closing ---------------------------------------------------------------------------
    def close(self, timeout: float = 1.0) -> None:
        """Send what is in flight (up to ``timeout`` s), then disconnect cleanly (no last will)."""
        self._closing = True
        last = self._last_info
        if last is not None and self.connected.is_set():
            # the broker handles a client's messages in order: once the last one is acknowledged
            # (or written, for QoS 0) everything before it has arrived too
            try:
                last.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    import socket

    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket (e.g. a websocket wrapper)
        pass


_process_bus: Bus | None = None


def get_bus() -> Bus:
    """This process's bus, created and connected on first use (a job installs its own first)."""
    global _process_bus
    if _process_bus is None:
        _process_bus = Bus("pio")
        _process_bus.connect()
    return _process_bus


def set_bus(bus: Bus | None) -> None:
    global _process_bus
    _process_bus = bus
