"""One request to many workers at once, in a thread pool: a result per unit, in upstream's
envelope (``{ok, unit, value}`` / ``{ok: false, unit, error, status_code, retryable}``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pioreactor.plugins_core.cluster.http import Answer, Unreachable, call_and_wait

# (method, path, body) for a unit; None skips the unit
Request = Callable[[str], tuple[str, str, Any]]


def settings() -> tuple[float, int, int]:
    """(timeout seconds, threads, default worker port) from ``[pios]``."""
    from pioreactor.sdk import get_config

    config = get_config()
    return (
        config.getfloat("pios", "request_timeout_seconds", fallback=2.0),
        config.getint("pios", "fan_out_threads", fallback=16),
        config.getint("pios", "worker_port", fallback=80),
    )


def envelope(unit: str, answer: Answer) -> dict[str, Any]:
    """The per-unit result of an answer (a finished task's outcome is unwrapped)."""
    body = answer.body
    if answer.status < 300:
        if isinstance(body, dict) and body.get("status") == "failed":
            return _failed(unit, "task", _message(body.get("error")), 500, False)
        value = body.get("result", body) if isinstance(body, dict) and body.get("status") == "succeeded" else body
        return {"ok": True, "unit": unit, "value": value}
    return _failed(unit, "http", _message(body), answer.status, answer.status >= 500)


def _message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("error") or error)
        cause = body.get("cause")
        return f"{error}: {cause}" if cause else str(error)
    return str(body)


def _failed(unit: str, kind: str, message: str, status: int | None, retryable: bool) -> dict[str, Any]:
    return {"ok": False, "unit": unit, "error": {"kind": kind, "message": message}, "status_code": status, "retryable": retryable}


def fan_out(workers: Mapping[str, str], request: Request, *, task_timeout: float = 30.0) -> dict[str, dict[str, Any]]:
    """Send ``request(unit)`` to each worker (``{unit: address}``) in parallel; wait for tasks.
    A worker that does not answer within ``[pios] request_timeout_seconds`` is unreachable."""
    timeout, threads, port = settings()

    def one(unit: str) -> dict[str, Any]:
        method, path, body = request(unit)
        try:
            answer = call_and_wait(workers[unit], method, path, body, timeout=timeout, task_timeout=task_timeout, default_port=port)
        except Unreachable as err:
            return _failed(unit, "unreachable", str(err), None, True)
        except ValueError as err:
            return _failed(unit, "address", str(err), None, False)
        return envelope(unit, answer)

    if not workers:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(workers)))) as pool:
        results = list(pool.map(one, list(workers)))
    return {r["unit"]: r for r in results}
