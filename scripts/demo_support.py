"""Helpers of `make demo`: the demo unit's config, its jobs, and what they publish."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".demo"
HOME = DEMO_DIR / "pio_home"
UNIT, EXPERIMENT = "demo-unit", "demo"
TARGET_TEMPERATURE = 37.0
MAX_OD = 4.0
#: (label, `pio run` arguments, job name on MQTT)
JOBS: list[tuple[str, list[str], str]] = [
    ("stirring", ["stirring", "--target-rpm", "500"], "stirring"),
    ("od_reading", ["od_reading"], "od_reading"),
    ("growth_rate_calculating", ["growth_rate_calculating", "--ignore-cache"], "growth_rate_calculating"),
    (
        f"thermostat at {TARGET_TEMPERATURE:g} C",
        [
            "temperature_automation",
            "--automation-name",
            "thermostat",
            "--target-temperature",
            f"{TARGET_TEMPERATURE:g}",
        ],
        "temperature_automation",
    ),
]


def config_text(clock_speed: float, scenario: str = "growth") -> str:
    if scenario == "turbidostat":
        return turbidostat_config_text(clock_speed)
    return f"""[mqtt]
broker_address=localhost
broker_port=1883

[hardware]
backend=simulator

[simulation]
# {clock_speed:g} simulated seconds per wall-clock second, for every process of the unit
clock_speed={clock_speed:g}
# the culture: a lag of about two hours at 37 C, then doubling every 75 minutes up to OD600 {MAX_OD:g}
initial_od=0.05
lag_hours=2.0
doubling_time_minutes=75
max_od={MAX_OD:g}
# the room is at 22 C: the thermostat has to heat the vial to {TARGET_TEMPERATURE:g} C
ambient_temperature=22

[logging]
console_log_level=WARNING
"""


# the turbidostat scenario: the settings of tests/test_dosing_simulator.py's 24-hour turbidostat
TURBIDOSTAT_TARGET_NOD = 1.5
TURBIDOSTAT_EXCHANGE_ML = 0.75
PUMP_ML_PER_SECOND = 0.0125  # slow pumps: a millisecond of scaled-clock jitter is seconds of pumping
TURBIDOSTAT_JOBS: list[tuple[str, list[str], str]] = [
    *JOBS,
    (
        f"turbidostat at nOD {TURBIDOSTAT_TARGET_NOD:g}",
        [
            "dosing_automation",
            "--automation-name",
            "turbidostat",
            "--target-normalized-od",
            f"{TURBIDOSTAT_TARGET_NOD:g}",
            "--exchange-volume-ml",
            f"{TURBIDOSTAT_EXCHANGE_ML:g}",
            "--duration",
            "1",
        ],
        "dosing_automation",
    ),
]


def turbidostat_config_text(clock_speed: float) -> str:
    return f"""[mqtt]
broker_address=localhost
broker_port=1883

[hardware]
backend=simulator

[simulation]
# {clock_speed:g} simulated seconds per wall-clock second, for every process of the unit
clock_speed={clock_speed:g}
seed=11
# the culture: a lag of two hours (growth_rate_calculating takes its OD statistics meanwhile),
# then doubling every 2.5 hours at {TARGET_TEMPERATURE:g} C, up to OD600 {MAX_OD:g}
initial_od=0.5
lag_hours=2
doubling_time_minutes=150
max_od={MAX_OD:g}
ambient_temperature=22
initial_temperature={TARGET_TEMPERATURE:g}
# pumps of {PUMP_ML_PER_SECOND:g} ml/s, calibrated to match (see calibrate_pumps)
pump_ml_per_second={PUMP_ML_PER_SECOND:g}
# no mains hum (a reading's samples cannot spread over a mains period on this clock) and no
# outliers (the first reading after a dose is taken as it comes)
mains_ripple=0
outlier_probability=0

[growth_rate_calculating.config]
# a dose of the slow pumps lasts a minute: the OD may jump that long after a dosing event
ekf_variance_shift_post_dosing_minutes=1.0

[od_reading.config]
# a reading every 2 simulated minutes keeps od_reading and the filter up with the clock
samples_per_second=0.008333333
samples_per_reading=8

[logging]
console_log_level=WARNING
"""


def calibrate_pumps(flow: float = PUMP_ML_PER_SECOND, unit: str = UNIT) -> None:
    """Active calibrations of the media and waste pumps of this process's unit (``$PIO_HOME``)
    matching the simulator's (``flow`` ml/s)."""
    from datetime import UTC

    from pioreactor.plugins_core.calibrations.api import (
        PolyFit,
        PumpCalibration,
        RecordedData,
        save_calibration,
        set_active_calibration,
    )

    for pump in ("media", "waste"):
        seconds = [0.5, 1.0, 2.0, 5.0, 10.0]
        calibration = PumpCalibration(
            calibration_name=f"simulated-{pump}",
            calibrated_on_pioreactor_unit=unit,
            created_at=datetime.now(UTC),
            curve_data_=PolyFit([flow, 0.0]),
            recorded_data=RecordedData(x=seconds, y=[flow * s for s in seconds]),
            dc=100.0,
        )
        save_calibration(f"{pump}_pump", calibration)
        set_active_calibration(f"{pump}_pump", calibration.calibration_name)


def pio_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pioreactor.kernel.cli", *args]


def kill_all_jobs(quiet: bool = False) -> str:
    """`pio kill --all-jobs` (bounded); its output."""
    try:
        done = subprocess.run(pio_command("kill", "--all-jobs"), capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`pio kill --all-jobs` did not finish within 30 s"
    return "" if quiet else (done.stdout + done.stderr).strip()


def fresh_home(clock_speed: float, scenario: str = "growth") -> None:
    """Stop what a previous run left behind, then start from an empty PIO_HOME: a new clock origin,
    job registry and growth-rate cache (the vial itself is reset with reset_world())."""
    if (HOME / "config.ini").exists():
        kill_all_jobs(quiet=True)
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    (HOME / "config.ini").write_text(config_text(clock_speed, scenario))


def held_seconds(clock: object) -> float:
    report = getattr(clock, "report", None)
    return float(report()["held_seconds"]) if report else 0.0


def speed_line(asked: float, sim_start: float, wall_start: float, held_start: float) -> str:
    """How fast the simulated clock actually ran, and how long it waited for held-up processes."""
    import time

    from pioreactor.sdk import get_clock

    clock = get_clock()
    simulated, wall = clock.time() - sim_start, time.monotonic() - wall_start
    held = held_seconds(clock) - held_start
    return (
        f"The clock ran {simulated / 3600:.1f} simulated hours in {wall:.0f} wall-clock seconds: "
        f"{simulated / max(wall, 1e-9):.0f}x on average (asked {asked:g}x). It stood still for "
        f"{held / asked:.1f} s in all, waiting for processes this machine held up, so that no pump, "
        "reading or heater pause lasted longer than it should."
    )


def stamp(text: str) -> float:
    """Seconds since the epoch (on the unit's clock) of an ISO timestamp such as ``...Z``."""
    return datetime.fromisoformat(text).timestamp()


@dataclass
class Live:
    """What the jobs publish: the latest values, and histories for the final charts."""

    t0: float  # the vial's creation, on the unit's clock
    latest: dict[str, Any] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    raw_od: list[tuple[float, float]] = field(default_factory=list)
    filtered_od: list[tuple[float, float]] = field(default_factory=list)
    growth_rate: list[tuple[float, float]] = field(default_factory=list)
    true_growth_rate: list[tuple[float, float]] = field(default_factory=list)
    true_od: list[tuple[float, float]] = field(default_factory=list)
    reading_stamps: list[float] = field(default_factory=list)
    dosing_events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.ready = threading.Condition(self.lock)

    def hours(self, t: float) -> float:
        return (t - self.t0) / 3600.0

    def on_message(self, message: Any) -> None:
        """Bus callback for ``pioreactor/<unit>/<experiment>/+/+``."""
        if not message.payload:  # a job clearing its settings as it stops
            return
        job, setting = message.topic.split("/")[-2:]
        text = message.payload.decode()
        with self.lock:
            if setting == "dosing_events":  # pioreactor/<unit>/<experiment>/dosing_events
                self.dosing_events.append(json.loads(text))
            elif setting == "$state":
                self.states[job] = text
                self.ready.notify_all()
            elif (job, setting) == ("od_reading", "ods"):
                data = json.loads(text)
                t = stamp(data["timestamp"])
                od = next(iter(data["ods"].values()))["od"]  # the first (usually only) photodiode
                self.latest["raw_od"] = od
                self.reading_stamps.append(t)
                self.raw_od.append((self.hours(t), od))
            elif (job, setting) == ("growth_rate_calculating", "growth_rate"):
                data = json.loads(text)
                self.latest["growth_rate"] = data["growth_rate"]
                self.growth_rate.append((self.hours(stamp(data["timestamp"])), data["growth_rate"]))
            elif (job, setting) == ("growth_rate_calculating", "od_filtered"):
                data = json.loads(text)
                self.latest["od_filtered"] = data["od_filtered"]
                self.ready.notify_all()
                self.filtered_od.append((self.hours(stamp(data["timestamp"])), data["od_filtered"]))
            elif (job, setting) == ("temperature_automation", "temperature"):
                self.latest["temperature"] = json.loads(text)["temperature"]
            elif (job, setting) == ("temperature_automation", "heater_duty_cycle"):
                self.latest["heater"] = float(text)
            elif (job, setting) == ("stirring", "measured_rpm"):
                self.latest["rpm"] = json.loads(text)["measured_rpm"]
            elif (job, setting) == ("od_normalization", "percent_progress"):
                self.latest["progress"] = float(text)
            elif (job, setting) == ("dosing_automation", "current_volume_ml"):
                self.latest["volume_ml"] = float(text)

    def wait_ready(self, jobs: list[str], timeout: float) -> list[str]:
        """Wait until every job in ``jobs`` says ready; those that did not."""
        with self.lock:
            self.ready.wait_for(lambda: all(self.states.get(j) == "ready" for j in jobs), timeout)
            return [j for j in jobs if self.states.get(j) != "ready"]

    def skipped_readings(self, interval: float = 5.0) -> tuple[int, int]:
        """(readings, readings skipped): a gap over 1.5 intervals between two readings is a skip."""
        with self.lock:
            stamps = sorted(self.reading_stamps)
        gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        return len(stamps), sum(round(g / interval) - 1 for g in gaps if g > 1.5 * interval)


def calibrate_od(pio_command: Any) -> bool:
    """An active od90 calibration made by the real standards protocol on the simulator (which sets
    the culture aside meanwhile): od_reading then reports OD600, linear in biomass, so the growth
    rate estimated is the biomass's rather than the sub-linear 90° signal's. True if it worked."""
    result = subprocess.run(
        pio_command("calibrations", "run", "--device", "od90", "--name", "simulated-od90", "-y"),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"The OD calibration failed; going on without one:\n{result.stderr}", file=sys.stderr)
    return result.returncode == 0

