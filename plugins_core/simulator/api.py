"""The simulator plugin's public API: the simulated vial, for tests, demos and calibrations.

    from pioreactor.plugins_core.simulator.api import ground_truth, reset_world

    reset_world(od=1.5, temperature=30)
    print(ground_truth()["od"])

The vial lives in this unit's intermittent storage, so every process of the unit sees the same one.
"""

from __future__ import annotations

from pioreactor.plugins_core.simulator.board import power_requests
from pioreactor.plugins_core.simulator.world import (
    World,
    culture_set_aside,
    get_world,
    ground_truth,
    reset_world,
)

__all__ = ["World", "culture_set_aside", "get_world", "ground_truth", "power_requests", "reset_world"]
