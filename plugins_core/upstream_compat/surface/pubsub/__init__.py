"""``pioreactor.pubsub``: one-off MQTT publishing and subscribing, and HTTP calls to units.

MQTT goes through this process's bus (one client per process); HTTP through ``mureq``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pioreactor import mureq, sdk

QOS_AT_MOST_ONCE, QOS_AT_LEAST_ONCE, QOS_EXACTLY_ONCE = 0, 1, 2


class QOS:
    AT_MOST_ONCE = 0
    AT_LEAST_ONCE = 1
    EXACTLY_ONCE = 2


def publish(topic: str, message: Any, qos: int = 0, retain: bool = False, **_: Any) -> None:
    """Publish one message and wait until it has left (up to 5 s)."""
    if message is not None and not isinstance(message, (str, bytes, bytearray)):
        message = str(message)
    info = sdk.get_bus().publish(topic, message, qos=qos, retain=retain)
    if info is not None and qos > 0:
        try:
            info.wait_for_publish(timeout=5)
        except (RuntimeError, ValueError):
            pass


def subscribe(
    topics: str | list[str], timeout: float | None = None, allow_retained: bool = True, **_: Any
) -> sdk.Message | None:
    """The first message on ``topics`` (None after ``timeout`` seconds)."""
    bus = sdk.get_bus()
    arrived: list[sdk.Message] = []
    done = threading.Event()

    def first(message: sdk.Message) -> None:
        if not done.is_set():
            arrived.append(message)
            done.set()

    wanted = [topics] if isinstance(topics, str) else list(topics)
    subs = [bus.subscribe(topic, first, allow_retained=allow_retained) for topic in wanted]
    try:
        done.wait(timeout)
    finally:
        for sub in subs:
            bus.unsubscribe(sub)
    return arrived[0] if arrived else None


def subscribe_and_callback(
    callback: Callable[[Any], None],
    topics: str | list[str],
    allow_retained: bool = True,
    qos: int = 0,
    **_: Any,
) -> Any:
    """Call ``callback(message)`` for each message on ``topics``; returns the bus."""
    bus = sdk.get_bus()
    for topic in [topics] if isinstance(topics, str) else list(topics):
        bus.subscribe(topic, callback, qos=1, allow_retained=allow_retained)
    return bus


def prune_retained_messages(topics_to_prune: str = "#", **_: Any) -> None:
    """Clear retained messages under ``topics_to_prune`` (what arrives within a second)."""
    bus = sdk.get_bus()
    seen: list[str] = []
    sub = bus.subscribe(topics_to_prune, lambda m: seen.append(m.topic) if m.retain else None)
    threading.Event().wait(1.0)
    bus.unsubscribe(sub)
    for topic in seen:
        bus.publish(topic, None, retain=True)


def _url(address: str, endpoint: str) -> str:
    if address.startswith(("http://", "https://")):
        return address.rstrip("/") + "/" + endpoint.lstrip("/")
    port = sdk.get_config().get("ui", "port", fallback="80")
    host = address if ":" in address or str(port) == "80" else f"{address}:{port}"
    return f"http://{host}/{endpoint.lstrip('/')}"


def get_from(address: str, endpoint: str, **kwargs: Any) -> mureq.Response:
    return mureq.get(_url(address, endpoint), **kwargs)


def post_into(address: str, endpoint: str, **kwargs: Any) -> mureq.Response:
    return mureq.post(_url(address, endpoint), **kwargs)


def put_into(address: str, endpoint: str, **kwargs: Any) -> mureq.Response:
    return mureq.put(_url(address, endpoint), **kwargs)


def patch_into(address: str, endpoint: str, **kwargs: Any) -> mureq.Response:
    return mureq.patch(_url(address, endpoint), **kwargs)


def delete_from(address: str, endpoint: str, **kwargs: Any) -> mureq.Response:
    return mureq.delete(_url(address, endpoint), **kwargs)


def _leader() -> str:
    from pioreactor.config import get_leader_hostname
    from pioreactor.utils.networking import resolve_to_address
    from pioreactor.whoami import get_unit_name

    leader = get_leader_hostname()
    return "localhost" if leader == get_unit_name() else resolve_to_address(leader)


def get_from_leader(endpoint: str, **kwargs: Any) -> mureq.Response:
    return get_from(_leader(), endpoint, **kwargs)


def post_into_leader(endpoint: str, **kwargs: Any) -> mureq.Response:
    return post_into(_leader(), endpoint, **kwargs)


def put_into_leader(endpoint: str, **kwargs: Any) -> mureq.Response:
    return put_into(_leader(), endpoint, **kwargs)


def patch_into_leader(endpoint: str, **kwargs: Any) -> mureq.Response:
    return patch_into(_leader(), endpoint, **kwargs)


def delete_from_leader(endpoint: str, **kwargs: Any) -> mureq.Response:
    return delete_from(_leader(), endpoint, **kwargs)
