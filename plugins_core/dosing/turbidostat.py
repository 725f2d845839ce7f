"""``turbidostat``: exchange media whenever the culture reaches a target density.

The target is a normalized OD (``--target-normalized-od``, growth_rate_calculating's
``od_filtered``) or an OD (``--target-od``, od_reading's signal on
``[dosing_automation.turbidostat] signal_channel``), not both. A dilution needs the last
``readings_above_target`` readings all at or above the target, counting only readings taken
once the media of the previous dilution had mixed in: a single high outlier cannot trigger one,
and readings from before a dilution never trigger the next.
"""

from __future__ import annotations

import math
from typing import Any

from pioreactor.plugins_core.dosing.automation import DilutionEvent, DosingAutomationJob, JobRequiredError
from pioreactor.sdk import get_config

SECTION = "dosing_automation.turbidostat"


def _positive(name: str, value: float | None) -> float:
    if value is None:
        raise ValueError(f"--{name.replace('_', '-')} is required")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value:g}")
    return value


class Turbidostat(DosingAutomationJob):
    """Keep the culture at a target density: exchange media whenever it reaches the target.

    :param exchange_volume_ml: Volume exchanged at each dilution, in ml.
    :param target_normalized_od: Target normalized OD (give this or --target-od).
    :param target_od: Target OD on the signal channel (give this or --target-normalized-od) [default: none].
    :param duration: Minutes between checks of the density.
    """

    automation_name = "turbidostat"
    required_pumps = ("media", "waste")
    published_settings = {
        "exchange_volume_ml": {"datatype": "float", "settable": True, "unit": "mL"},
        "target_normalized_od": {"datatype": "float", "settable": True, "unit": "AU"},
        "target_od": {"datatype": "float", "settable": True, "unit": "OD"},
    }

    def __init__(
        self,
        unit: str,
        experiment: str,
        *,
        exchange_volume_ml: float,
        target_normalized_od: float | None = None,
        target_od: float | None = None,
        duration: float = 0.25,
        **kwargs: Any,
    ) -> None:
        if (target_normalized_od is None) == (target_od is None):
            raise ValueError("give exactly one of --target-normalized-od and --target-od")
        _positive("exchange_volume_ml", exchange_volume_ml)
        _positive(
            "target_normalized_od" if target_od is None else "target_od",
            target_normalized_od or target_od or 0.0,
        )
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of minutes, got {duration:g}")
        config = get_config()
        self.signal_channel = config.get(SECTION, "signal_channel", fallback="2").strip()
        self.window = max(1, config.getint(SECTION, "readings_above_target", fallback=2))
        super().__init__(unit, experiment, duration=duration, **kwargs)
        self.exchange_volume_ml = exchange_volume_ml
        self.target_normalized_od = target_normalized_od
        self.target_od = target_od
        self._counted_from = 0.0  # clock time: readings taken before it do not count

    # the setters switch the kind of target
    def set_target_normalized_od(self, value: float) -> None:
        self.target_normalized_od = _positive("target_normalized_od", value)
        self.target_od = None

    def set_target_od(self, value: float) -> None:
        self.target_od = _positive("target_od", value)
        self.target_normalized_od = None

    def set_exchange_volume_ml(self, value: float) -> None:
        self.exchange_volume_ml = _positive("exchange_volume_ml", value)

    def _signal(self) -> tuple[str, float, list[float]]:
        """(name, target, readings since the last dilution, oldest first); JobRequiredError when
        the readings are missing or old."""
        if self.target_od is not None:
            channel = self.signal_channel
            if channel not in self.latest_od:
                raise JobRequiredError(
                    f"od_reading publishes no channel {channel} ([{SECTION}] signal_channel)"
                )
            recent = [ods[channel] for _, ods in self.recent_ods(since=self._counted_from) if channel in ods]
            return "OD", self.target_od, recent
        assert self.target_normalized_od is not None
        _ = self.latest_normalized_od  # there is a recent one
        recent = [nod for _, nod in self.recent_normalized_ods(since=self._counted_from)]
        return "nOD", self.target_normalized_od, recent

    def execute(self) -> DilutionEvent | None:
        name, target, recent = self._signal()
        if len(recent) < self.window:
            return None  # not enough readings since the last dilution yet
        smoothed = min(recent[-self.window :])
        if smoothed < target:
            return None
        moved = self.execute_io_action(media_ml=self.exchange_volume_ml, waste_ml=self.exchange_volume_ml)
        # readings from once the media had mixed in see the dilution (waste removal does not change it)
        self._counted_from = self.mixed_at
        cycled = moved["media_ml"]
        return DilutionEvent(
            message=f"Latest {name} {smoothed:.3f} ≥ target {target:g}; cycled {cycled:.2f} ml",
            data={
                f"latest_{name.lower()}": round(smoothed, 5),
                f"target_{name.lower()}": target,
                "volume": cycled,
            },
        )
