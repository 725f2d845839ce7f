"""How far each worker's clock is from the leader's: a worker's ``/unit_api/system/utc_clock``
against the middle of the request's round trip on the leader's clock (data from units whose
clocks disagree cannot be lined up, and timers misfire)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pioreactor.plugins_core.cluster.fanout import settings
from pioreactor.plugins_core.cluster.http import Unreachable, call


def max_skew_seconds() -> float:
    from pioreactor.sdk import get_config

    return get_config().getfloat("pios", "max_clock_skew_seconds", fallback=5.0)


def skew_of(address: str, *, timeout: float, default_port: int) -> float | None:
    """The worker's clock minus the leader's, in seconds (None when it cannot be read)."""
    sent = time.time()
    try:
        answer = call(address, "GET", "/unit_api/system/utc_clock", timeout=timeout, default_port=default_port)
    except (Unreachable, ValueError):
        return None
    received = time.time()
    body = answer.body
    if answer.status != 200 or not isinstance(body, dict) or "clock_time" not in body:
        return None
    theirs = datetime.fromisoformat(str(body["clock_time"]).replace("Z", "+00:00")).timestamp()
    return theirs - (sent + received) / 2


def measure(workers: dict[str, str]) -> dict[str, float | None]:
    """``{unit: skew seconds or None}`` for ``{unit: address}``, in parallel."""
    if not workers:
        return {}
    timeout, threads, port = settings()
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(workers)))) as pool:
        skews = list(pool.map(lambda unit: skew_of(workers[unit], timeout=timeout, default_port=port), list(workers)))
    return dict(zip(workers, skews, strict=True))
