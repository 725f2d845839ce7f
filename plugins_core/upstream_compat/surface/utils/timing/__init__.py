"""``pioreactor.utils.timing``: ``RepeatedTimer`` with upstream's signature, and UTC timestamps.

Times come from the kernel clock, so a plugin runs at the simulator's speed too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pioreactor import sdk


class RepeatedTimer:
    """Calls ``function(*args, **kwargs)`` every ``interval`` seconds in a thread.

    ``start()`` returns the timer; ``pause()``/``unpause()`` skip calls; ``cancel()`` stops it.
    """

    def __init__(
        self,
        interval: float,
        function: Callable[..., Any],
        job_name: str | None = None,
        run_immediately: bool = False,
        run_after: float | None = None,
        logger: Any = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        self.interval = interval
        self.function = function
        self.logger = logger
        call_kwargs = kwargs or {}

        def call(*call_args: Any) -> None:
            function(*call_args, **call_kwargs)

        call.__name__ = getattr(function, "__name__", "timer")
        self._timer = sdk.RepeatedTimer(
            interval,
            call,
            run_immediately=run_immediately,
            run_after=run_after or 0.0,
            name=f"{job_name or 'timer'}-{call.__name__}",
            args=tuple(args),
        )
        self.is_paused = False

    def start(self) -> RepeatedTimer:
        self._timer.start()
        return self

    def pause(self) -> None:
        self.is_paused = True
        self._timer.pause()

    def unpause(self) -> None:
        self.is_paused = False
        self._timer.unpause()

    def cancel(self, timeout: float = 1.0) -> None:
        self._timer.cancel(timeout)

    def join(self, timeout: float | None = None) -> None:
        self._timer.cancel(timeout or 1.0)

    def is_alive(self) -> bool:
        return bool(self._timer.is_alive())


def current_utc_datetime() -> datetime:
    return sdk.get_clock().utc_now()


def current_utc_timestamp() -> str:
    return to_iso_format(current_utc_datetime())


def current_utc_datestamp() -> str:
    return current_utc_datetime().strftime("%Y-%m-%d")


def to_iso_format(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_datetime(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def default_datetime_for_pioreactor(delta_ms: int = 0) -> datetime:
    from datetime import timedelta

    return datetime(2000, 1, 1, tzinfo=UTC) + timedelta(milliseconds=delta_ms)


def catchtime() -> Callable[[], float]:
    start = sdk.get_clock().monotonic()
    return lambda: sdk.get_clock().monotonic() - start
