"""``chemostat``: a fixed exchange every period, so a constant dilution rate.

With ``exchange_volume_ml`` = v every ``duration`` minutes in a vial held at V ml, the dilution
rate is D = v / V * 60 / duration per hour; a culture that can grow faster settles where its
growth rate equals D.
"""

from __future__ import annotations

import math
from typing import Any

from pioreactor.plugins_core.dosing.automation import DilutionEvent, DosingAutomationJob


class Chemostat(DosingAutomationJob):
    """Exchange a fixed volume of culture for fresh media every period.

    :param exchange_volume_ml: Volume exchanged at each run, in ml.
    :param duration: Minutes between exchanges.
    """

    automation_name = "chemostat"
    required_pumps = ("media", "waste")
    published_settings = {"exchange_volume_ml": {"datatype": "float", "settable": True, "unit": "mL"}}

    def __init__(
        self, unit: str, experiment: str, *, exchange_volume_ml: float, duration: float = 20.0, **kwargs: Any
    ) -> None:
        self._check_volume_value(exchange_volume_ml)
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {duration:g}")
        super().__init__(unit, experiment, duration=duration, **kwargs)
        self.exchange_volume_ml = exchange_volume_ml

    @staticmethod
    def _check_volume_value(value: float | None) -> None:
        if value is None:
            raise ValueError(
                "--exchange-volume-ml is required (ml exchanged at each run, e.g. --exchange-volume-ml 0.5)"
            )
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"exchange_volume_ml must be a positive number of ml, got {value:g}")

    def set_exchange_volume_ml(self, value: float) -> None:
        self._check_volume_value(value)
        self.exchange_volume_ml = value

    @property
    def dilution_rate(self) -> float:
        """Per hour, at the tube's volume."""
        return self.exchange_volume_ml / self.max_volume_ml * 60.0 / self.duration

    def execute(self) -> DilutionEvent:
        moved = self.execute_io_action(media_ml=self.exchange_volume_ml, waste_ml=self.exchange_volume_ml)
        cycled = moved["media_ml"]
        return DilutionEvent(message=f"exchanged {cycled:.2f} ml", data={"volume_actually_cycled": cycled})
