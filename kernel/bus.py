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
from typing import Any, NamedTuple

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


# -- durable consumption -------------------------------------------------------------------------
class Delivery(NamedTuple):
    """A message received on a :class:`DurableSubscriber`; the broker keeps it until it is acked.

    (A named tuple: one is made per message, and tens of thousands arrive per second.)
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    #: the broker says it may have delivered this message before (a redelivery)
    dup: bool
    mid: int
    #: which connection brought it: message ids are only meaningful within their connection
    connection: int
    received_at: float  # time.monotonic()


_PUBACK = 0x40


class _BufferedSocket:
    """Reads the socket 256 kB at a time: paho asks for a packet's bytes a few at a time, one
    system call each. ``pending()`` tells paho's loop that buffered bytes are waiting (the way an
    SSL socket does), so it reads them without waiting in ``select``."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._data):
            data = self._sock.recv(262144)
            if not data:
                return data
            self._data, self._pos = data, 0
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        return len(self._data) - self._pos

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _ThroughputClient(mqtt.Client):
    """paho's client, reading every packet that has arrived per loop iteration (instead of one)
    from a buffered socket: about 40 % less CPU per received message. Falls back to paho's own
    behaviour if its internals are not the ones this was written against (paho 2.x)."""

    _tuned = all(hasattr(mqtt.Client, name) for name in ("_create_socket", "_packet_read", "_loop_rc_handle"))

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if not self._tuned or self._ssl or self._transport != "tcp":
            return sock
        return _BufferedSocket(sock)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if not self._tuned:
            return super().loop_read(max_packets)
        for _ in range(1000):  # then let the loop write (acknowledgements, pings) and check timers
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return MQTTErrorCode.MQTT_ERR_SUCCESS


class DurableSubscriber:
    """An MQTT session that keeps what it has not acknowledged, for consumers that must not lose messages.

    Unlike :class:`Bus` (a clean session, acknowledged on receipt), it connects with
    ``clean_session=False`` and a stable client id, so the broker queues QoS 1 messages while it
    is away (a restart, a crash, a network drop) and sends again whatever it did not acknowledge;
    it subscribes again after every connect (in case the broker lost the session); and it
    acknowledges only when the consumer calls :meth:`ack`, e.g. once the rows are committed.
    The broker may therefore deliver a message more than once (``dup``): consumers deduplicate.

    ``on_message`` runs in the network thread: keep it short (append to a queue).
    """

    def __init__(
        self,
        client_id: str,
        topic_filters: list[str],
        on_message: Callable[[Delivery], None],
        *,
        settings: BrokerSettings | None = None,
        qos: int = 1,
    ) -> None:
        import time

        self._monotonic = time.monotonic
        self.settings = settings or BrokerSettings.from_config(get_config())
        self.client_id = client_id
        self.topic_filters = list(dict.fromkeys(topic_filters))
        self.qos = qos
        self.on_message = on_message
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed the subscriptions of this connection
        self.connection = 0  # incremented on each successful connect
        self.connects = 0
        self._closing = False
        client = _ThroughputClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password or None)
        if self.settings.use_tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_socket_open = _no_delay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = lambda *args: self.subscribed.set()
        self.client = client
        # one write for many acknowledgements; paho's public ack() is the fallback
        self._queue_packet = getattr(client, "_packet_queue", None)

    def connect(self, timeout: float = 5.0) -> bool:
        """Connect in the background; True once the broker confirmed the subscriptions (within
        ``timeout`` s), so that everything published from then on reaches this session."""
        self.client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            log.warning(
                "Cannot reach the MQTT broker at %s:%s yet; retrying in the background.",
                self.settings.host,
                self.settings.port,
            )
            return False
        return True

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error("The MQTT broker at %s:%s refused the connection: %s.", self.settings.host, self.settings.port, reason)
            return
        self.connection += 1
        self.connects += 1
        self.subscribed.clear()
        # the broker may have lost the session (no persistence): subscribe again every time
        client.subscribe([(topic, self.qos) for topic in self.topic_filters])
        if self.connects > 1:
            log.info(
                "Reconnected to the MQTT broker (session %s).",
                "kept" if flags.session_present else "lost: subscribed again",
            )
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._closing:
            log.warning("Lost the connection to the MQTT broker (%s); reconnecting.", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = msg.payload
        self.on_message(
            Delivery(
                msg.topic,
                payload if type(payload) is bytes else bytes(payload),
                msg.qos,
                bool(msg.retain),
                bool(msg.dup),
                msg.mid,
                self.connection,
                self._monotonic(),
            )
        )

    def ack(self, deliveries: list[Delivery]) -> int:
        """Acknowledge ``deliveries`` (QoS 1) so the broker forgets them; returns how many were sent.

        Deliveries of an earlier connection are skipped: the broker sends those again (their ids
        may now name other messages), and the consumer recognises them as duplicates.
        """
        current = self.connection
        mids = [d.mid for d in deliveries if d.qos == 1 and d.connection == current]
        if not mids or not self.connected.is_set():
            return 0
        if self._queue_packet is not None:
            packet = b"".join(bytes((_PUBACK, 2, mid >> 8, mid & 0xFF)) for mid in mids)
            self._queue_packet(_PUBACK, packet, 0, 0)
        else:  # pragma: no cover - a paho without the private method
            for mid in mids:
                self.client.ack(mid, 1)
        return len(mids)

    def close(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker for the next session."""
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()
