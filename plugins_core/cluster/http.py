"""Small HTTP calls to a worker's ``/unit_api`` with a hard timeout (stdlib only)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 2.0


class Unreachable(Exception):
    """The worker did not answer: the message says what failed (name, port, time-out)."""


@dataclass
class Answer:
    status: int
    body: Any


def split_address(address: str, default_port: int) -> tuple[str, int]:
    """``host[:port]`` as (host, port); a bad port is a ValueError naming it."""
    host, sep, port = address.rpartition(":")
    if not sep or "]" in port:
        return address, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"port {port!r} of address {address!r} must be a number from 1 to 65535")
    return host, int(port)


def call(address: str, method: str, path: str, body: Any = None, *, timeout: float = DEFAULT_TIMEOUT, default_port: int = 80) -> Answer:
    """``method http://address/path`` with a JSON body; never waits longer than ``timeout`` per step.
    Raises :class:`Unreachable` when the worker does not answer."""
    host, port = split_address(address, default_port)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{host}:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers_for_workers().items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _decode(response.read()))
    except urllib.error.HTTPError as err:
        return Answer(err.code, _decode(err.read()))
    except urllib.error.URLError as err:
        raise Unreachable(describe(err.reason, host, port, timeout)) from None
    except (TimeoutError, OSError) as err:
        raise Unreachable(describe(err, host, port, timeout)) from None


def headers_for_workers() -> dict[str, str]:
    """Who sends: a worker refuses writes from a leader that is not its own."""
    from pioreactor.sdk import get_leader_hostname, get_unit_name

    me = get_unit_name()
    return {"X-Pioreactor-Leader": me} if get_leader_hostname() == me else {}


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def describe(reason: Any, host: str, port: int, timeout: float) -> str:
    """What went wrong reaching ``host:port``, in words a user can act on."""
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the name {host!r} ({reason.strerror}); check the name, or give --address IP[:PORT]"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} answers but nothing listens on port {port}; is `pio run web_server` running there, on that port?"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer from {host}:{port} within {timeout:g} s (switched off, or off the network?)"
    return f"cannot reach {host}:{port}: {reason}"


def call_and_wait(
    address: str, method: str, path: str, body: Any = None, *, timeout: float = DEFAULT_TIMEOUT, task_timeout: float = 30.0, default_port: int = 80
) -> Answer:
    """:func:`call`, then, for a ``202`` with a ``result_url_path``, poll it until the task is done."""
    answer = call(address, method, path, body, timeout=timeout, default_port=default_port)
    if answer.status != 202 or not isinstance(answer.body, dict) or "result_url_path" not in answer.body:
        return answer
    poll = answer.body["result_url_path"]
    deadline = time.monotonic() + task_timeout
    while True:
        result = call(address, "GET", poll, timeout=timeout, default_port=default_port)
        if result.status != 202:
            return result
        if time.monotonic() > deadline:
            return Answer(504, {"error": f"the task did not finish within {task_timeout:g} s"})
        time.sleep(0.03)  # the task protocol is polled (the UI polls every 100 ms)
