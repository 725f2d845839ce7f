"""``pioreactor.actions.self_test``: ``register_self_tests``, upstream 26.3's self-test hook.

Upstream calls each test as ``test(managed_state, logger, unit, experiment)``; an assertion
that fails is a failed check. Where the monitor plugin offers ``register_self_test`` (its
``api``), each test becomes a check of ``pio run self_test``; otherwise they are kept here and
``run_registered_self_tests`` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

registered: list[Callable[..., Any]] = []


def _as_check(test: Callable[..., Any]) -> Callable[[Any], None]:
    """Upstream's four-argument test as a check that takes the monitor's bench."""

    def check(bench: Any) -> None:
        from pioreactor import sdk
        from pioreactor.background_jobs.base import PubClient

        unit, experiment = sdk.get_unit_name(), sdk.get_assigned_experiment()
        state = SimpleNamespace(mqtt_client=PubClient(sdk.get_bus()), unit=unit, experiment=experiment)
        test(state, sdk.get_logger("self_test"), unit, experiment)

    check.__name__ = test.__name__
    return check


def register_self_tests(*tests: Callable[..., Any]) -> None:
    for test in tests:
        if test in registered:
            continue
        registered.append(test)
        try:
            from pioreactor.plugins_core.monitor.api import register_self_test
        except ImportError:
            continue  # no monitor plugin: kept for run_registered_self_tests
        register_self_test(_as_check(test), name=test.__name__)


def run_registered_self_tests(managed_state: Any, logger: Any, unit: str, experiment: str) -> dict[str, bool]:
    results = {}
    for test in registered:
        try:
            test(managed_state, logger, unit, experiment)
            results[test.__name__] = True
        except Exception as err:
            logger.debug("%s failed: %s", test.__name__, err)
            results[test.__name__] = False
    return results
