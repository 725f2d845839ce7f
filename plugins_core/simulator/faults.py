"""Faults injected at run time (for tests and demos), shared by every process of the unit.

``set_fault("stirrer_stalled", True)`` makes the simulated stir bar stop as if it were stuck.
"""

from __future__ import annotations

from typing import Any

from pioreactor.sdk import local_intermittent_storage

NAMESPACE = "simulator_faults"
KNOWN_FAULTS = frozenset({"stirrer_stalled"})


def set_fault(name: str, value: Any = True) -> None:
    if name not in KNOWN_FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(KNOWN_FAULTS))}")
    with local_intermittent_storage(NAMESPACE) as store:
        store[name] = value


def clear_faults() -> None:
    with local_intermittent_storage(NAMESPACE) as store:
        store.clear()


def active_faults() -> dict[str, Any]:
    with local_intermittent_storage(NAMESPACE) as store:
        return dict(store.items())
