"""``fed_batch``: add media every period and remove nothing, until the vial is full."""

from __future__ import annotations

import math
from typing import Any

from pioreactor.plugins_core.dosing.automation import AddMediaEvent, DosingAutomationJob


class FedBatch(DosingAutomationJob):
    """Add a fixed volume of media every period, removing nothing (dosing stops, and the job
    sleeps, before the vial reaches max_volume_to_stop).

    :param dosing_volume_ml: Media added at each run, in ml.
    :param duration: Minutes between additions.
    """

    automation_name = "fed_batch"
    required_pumps = ("media",)
    published_settings = {"dosing_volume_ml": {"datatype": "float", "settable": True, "unit": "mL"}}

    def __init__(
        self, unit: str, experiment: str, *, dosing_volume_ml: float, duration: float = 60.0, **kwargs: Any
    ) -> None:
        self._check(dosing_volume_ml)
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {duration:g}")
        super().__init__(unit, experiment, duration=duration, **kwargs)
        self.dosing_volume_ml = dosing_volume_ml
        self.logger.warning(
            "fed_batch removes no liquid: the volume grows by %g ml every %g minutes, and dosing stops "
            "before it reaches %g ml.",
            dosing_volume_ml,
            duration,
            self.max_volume_to_stop,
        )

    @staticmethod
    def _check(value: float | None) -> None:
        if value is None:
            raise ValueError("--dosing-volume-ml is required (ml of media added at each run)")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"dosing_volume_ml must be a positive number of ml, got {value:g}")

    def set_dosing_volume_ml(self, value: float) -> None:
        self._check(value)
        self.dosing_volume_ml = value

    def execute(self) -> AddMediaEvent | None:
        added = self.add_to_vial("media", self.dosing_volume_ml)
        if added <= 0:
            return None
        if not math.isclose(added, self.dosing_volume_ml, rel_tol=1e-6):
            self.logger.warning("Under-dosed: added %.3g of %g ml.", added, self.dosing_volume_ml)
        return AddMediaEvent(message=f"Added {added:.3g} ml", data={"volume_added": added})
