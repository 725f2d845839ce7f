"""``pid_morbidostat``: hold a target growth rate by dosing alt-media (a drug) with a PID.

Each run, once the culture is dense enough (nOD above 70 % of ``target_normalized_od``), a
volume ``target_growth_rate * max_volume_ml * duration / 60`` is exchanged (2.5 times that
above 125 % of the target nOD), split between alt-media and media by the PID's output: growing
faster than the target means more alt-media. Gains are in ``[dosing_automation.pid_morbidostat]``.
"""

from __future__ import annotations

import math
from typing import Any

from pioreactor.plugins_core.dosing.automation import AddAltMediaEvent, DosingAutomationJob
from pioreactor.sdk import get_config
from pioreactor.sdk.control import PID

SECTION = "dosing_automation.pid_morbidostat"


class PIDMorbidostat(DosingAutomationJob):
    """Hold a target growth rate by dosing alt-media (e.g. a drug) against media.

    :param target_growth_rate: Growth rate to hold, per hour.
    :param target_normalized_od: Density (nOD) to dose at.
    :param duration: Minutes between runs.
    """

    automation_name = "pid_morbidostat"
    required_pumps = ("media", "alt_media", "waste")
    published_settings = {
        "target_growth_rate": {"datatype": "float", "settable": True, "unit": "h⁻¹"},
        "target_normalized_od": {"datatype": "float", "settable": True, "unit": "AU"},
    }

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        target_growth_rate: float,
        target_normalized_od: float,
        duration: float = 60.0,
        **kwargs: Any,
    ) -> None:
        for name, value in (
            ("target_growth_rate", target_growth_rate),
            ("target_normalized_od", target_normalized_od),
        ):
            if value is None:
                raise ValueError(f"--{name.replace('_', '-')} is required")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value:g}")
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {duration:g}")
        config = get_config()
        gains = {
            k: config.getfloat(SECTION, k, fallback=d) for k, d in (("Kp", 5.0), ("Ki", 0.0), ("Kd", 0.0))
        }
        self.minimum_dose = config.getfloat(SECTION, "minimum_dosing_volume_ml", fallback=0.1)
        super().__init__(unit, experiment, duration=duration, **kwargs)
        # growing faster than the target must give more alt-media: negative gains
        self.pid = PID(
            kp=-gains["Kp"],
            ki=-gains["Ki"],
            kd=-gains["Kd"],
            setpoint=target_growth_rate,
            output_min=0.0,
            output_max=1.0,
        )
        self.target_growth_rate = target_growth_rate
        self.target_normalized_od = target_normalized_od

    def set_target_growth_rate(self, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"target_growth_rate must be a positive number, got {value:g}")
        self.pid.set_setpoint(value)
        self.target_growth_rate = value

    @property
    def volume(self) -> float:
        return round(self.target_growth_rate * self.max_volume_ml * self.duration / 60.0, 4)

    def execute(self) -> AddAltMediaEvent | None:
        nod = self.latest_normalized_od
        growth_rate = self.latest_growth_rate
        if nod <= 0.7 * self.target_normalized_od:
            return None
        fraction = self.pid.update(growth_rate, dt=self.duration / 60.0)
        volume = 2.5 * self.volume if nod > 1.25 * self.target_normalized_od else self.volume
        alt_media = fraction * volume
        media = (1.0 - fraction) * volume
        if alt_media < self.minimum_dose:
            volume, alt_media = volume - alt_media, 0.0
        if media < self.minimum_dose:
            volume, media = volume - media, 0.0
        if volume <= 0:
            return None
        moved = self.execute_io_action(alt_media_ml=alt_media, media_ml=media, waste_ml=volume)
        return AddAltMediaEvent(
            message=f"PID output={fraction:.2f}, alt media {moved['alt_media_ml']:.2f} ml, media {moved['media_ml']:.2f} ml",
            data={
                "nOD": round(nod, 4),
                "growth_rate": round(growth_rate, 4),
                "pid_output": round(fraction, 4),
                **moved,
            },
        )
