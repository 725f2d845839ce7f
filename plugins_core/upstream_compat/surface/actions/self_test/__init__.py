"""``pioreactor.actions.self_test``: ``register_self_tests``, upstream 26.3's self-test hook.

Each test is called as ``test(managed_state, logger, unit, experiment)``; an assertion that
fails is a failed check. ``run_registered_self_tests`` runs them (used by ``pio run self_test``
where a self-test job exists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

registered: list[Callable[..., Any]] = []


def register_self_tests(*tests: Callable[..., Any]) -> None:
    for test in tests:
        if test not in registered:
            registered.append(test)


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
