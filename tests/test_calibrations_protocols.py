"""The calibration protocols on the simulator, and the jobs that use what they measure."""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest
from click.testing import CliRunner
from pioreactor.kernel.cli import pio as pio_group
from pioreactor.plugins_core.calibrations.api import (
    CalibrationError,
    PumpCalibration,
    load_active_calibration,
    save_calibration,
    set_active_calibration,
)
from pioreactor.plugins_core.calibrations.cli import ClickAssistant
from pioreactor.plugins_core.calibrations.protocols.od import ODStandardsProtocol
from pioreactor.plugins_core.calibrations.protocols.pump import DurationBasedPumpProtocol, PumpRun
from pioreactor.plugins_core.calibrations.protocols.stirring import DutyCycleBasedStirringProtocol, sweep
from pioreactor.sdk.calibration_protocols import CalibrationProtocol, prepare_config, release_hardware


class ScriptedAssistant(ClickAssistant):
    """Answers the questions that contain a key of ``answers``; everything else by default."""

    def __init__(self, **answers: Any) -> None:
        super().__init__(yes=True)
        self.answers = answers
        self.asked: list[str] = []

    def _scripted(self, question: str) -> Any:
        self.asked.append(question)
        return next((value for key, value in self.answers.items() if key.replace("_", " ") in question), None)

    def ask(self, question: str, *, default: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        answer = self._scripted(question)
        return super().ask(question, default=default if answer is None else answer, **kwargs)

    def ask_numbers(self, question: str, *, default: Any = None, minimum: Any = None) -> list[float]:
        answer = self._scripted(question)
        return super().ask_numbers(question, default=default if answer is None else answer, minimum=minimum)


def calibrate(protocol: CalibrationProtocol, device: str, assistant: ClickAssistant | None = None) -> Any:
    prepare_config()
    try:
        return protocol.run(device, assistant or ClickAssistant(yes=True), name="test")
    finally:
        release_hardware()


def flow(calibration: PumpCalibration) -> float:
    return calibration.curve_data_.coefficients[0]


# -- pumps -------------------------------------------------------------------------------------
def test_pump_calibration_on_the_simulator_recovers_the_flow_within_2_percent(pio_home, pio) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\npump_ml_per_second=0.8\nclock_speed=5\n")
    result = pio("calibrations", "run", "--device", "media_pump", "--name", "sim", "-y")
    assert result.returncode == 0, result.stderr
    assert "Flow: " in result.stdout and "fitted curve" in result.stdout
    assert "'sim' is now the active calibration for media_pump" in result.stdout
    calibration = load_active_calibration("media_pump")
    assert isinstance(calibration, PumpCalibration) and calibration.dc == 100.0
    assert abs(flow(calibration) - 0.8) / 0.8 < 0.02, flow(calibration)
    assert calibration.ml_to_duration(4.0) == pytest.approx(5.0, rel=0.02)
    listed = pio("calibrations", "list").stdout.splitlines()
    assert listed[1].split()[:2] == ["media_pump", "sim"] and listed[1].split()[-1] == "*"


def test_waste_pump_at_half_duty_cycle_on_the_simulator(pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\npump_ml_per_second=1.2\nclock_speed=10\n")
    assistant = ScriptedAssistant(Duty_cycle=50.0, Durations=[1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    calibration = calibrate(DurationBasedPumpProtocol(), "waste_pump", assistant)
    assert calibration.dc == 50.0 and calibration.recorded_data.x == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    assert abs(flow(calibration) - 0.6) / 0.6 < 0.02, flow(calibration)


def test_the_pump_protocol_takes_volumes_from_a_callable(pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=500\n")
    runs: list[PumpRun] = []

    def scale(run: PumpRun) -> float:
        runs.append(run)
        return 0.5 * run.duration + 0.1

    calibration = calibrate(DurationBasedPumpProtocol(measured_volume=scale), "alt_media_pump")
    assert [run.index for run in runs] == list(range(10)) and {run.pump for run in runs} == {"alt_media"}
    assert calibration.curve_data_.coefficients == pytest.approx([0.5, 0.1])
    assert calibration.calibration_name == "test" and calibration.hz == 250.0

    with pytest.raises(CalibrationError, match="volumes do not grow"):
        calibrate(DurationBasedPumpProtocol(measured_volume=lambda run: 1.0), "media_pump")
    with pytest.raises(CalibrationError, match="no default answer"):  # real hardware, -y: nobody to ask
        calibrate(DurationBasedPumpProtocol(simulate=False), "media_pump")


def test_an_interactive_pump_session(pio_home) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=500\n")
    answers = [
        "mine",  # name
        "",  # hz
        "",  # duty cycle
        "0.5, 1, 2",  # durations
        "",  # tubes in place
        "n",  # no priming
        "", "0.52",  # run 1
        "", "0.98",  # run 2
        "", "2.01",  # run 3
        "y",  # save
        "n",  # not active
    ]
    result = CliRunner().invoke(pio_group, ["calibrations", "run", "--device", "media_pump"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Durations of the runs (s), separated by commas [0.65, 0.65" in result.output
    assert "Volume moved in 0.5 s (ml) [" in result.output  # the simulator's weighing, offered
    assert "Not saved" not in result.output and "media_pump has no active calibration." in result.output
    assert load_active_calibration("media_pump") is None
    from pioreactor.plugins_core.calibrations.api import load_calibration

    saved = load_calibration("media_pump", "mine")
    assert saved.recorded_data.y == [0.52, 0.98, 2.01]


def test_calibrations_on_the_simulator_leave_the_culture_as_it_was(pio_home) -> None:  # type: ignore[no-untyped-def]
    # a pump calibration pumps ~15 ml and an OD calibration swaps in standards and a blank: the
    # culture sits aside meanwhile, and comes back with its volume, its OD and its growth
    pio_home.write_config("[simulation]\nclock_speed=500\nlag_hours=0\n")
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import ground_truth, reset_world

    load_config_with_plugins()
    before = reset_world(od=0.8, volume_ml=15.0, temperature=37.0)
    calibrate(DurationBasedPumpProtocol(), "media_pump")
    calibrate(ODStandardsProtocol(readings_per_vial=2), "od90")
    after = ground_truth()
    assert after["volume_ml"] == pytest.approx(15.0) and after["overflowed_ml"] == 0.0
    assert after["media_added_ml"] == before["media_added_ml"] == 0.0
    assert after["pumps"] == {"media": 0.0, "alt_media": 0.0, "waste": 0.0}
    assert after["growth_rate"] > 0.05 and after["od"] > 0.8  # it went on growing meanwhile


# -- stirring ----------------------------------------------------------------------------------
def test_the_sweep_goes_down_and_back_up() -> None:
    assert sweep(10, 20, 3) == [20.0, 15.0, 10.0, 15.0, 20.0]


def test_stirring_calibration_and_the_job_starting_from_it(pio_home, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=200\nmotor_rpm_per_duty_cycle=30\nseed=3\n")
    calibration = calibrate(DutyCycleBasedStirringProtocol(), "stirring")
    slope, intercept = calibration.curve_data_.coefficients
    assert abs(slope - 30) / 30 < 0.1, slope  # the simulated motor: 30 RPM per % above its 2 % deadband
    assert calibration.recorded_data.x[0] == 20.0 and len(calibration.recorded_data.x) == 13
    save_calibration("stirring", calibration)
    set_active_calibration("stirring", "test")

    job = run_job("stirring", "--target-rpm", "450", run_options=("--config-override", "simulation", "clock_speed", "200"))
    job.wait_for_state(mqtt_probe, "ready")
    first = mqtt_probe.wait_for(pio_home.topic("stirring", "duty_cycle")).payload
    assert float(first) == pytest.approx(calibration.rpm_to_duty_cycle(450), abs=1e-4)
    assert abs(float(first) - 17.0) < 1.5  # 450 / 30 + 2, not the configured 15 %
    assert job.stop() == 0


def test_stirring_calibration_refuses_while_stirring_runs(pio_home, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring")
    job.wait_for_state(mqtt_probe, "ready")
    with pytest.raises(CalibrationError, match="stirring is running.*pio kill --job-name stirring"):
        calibrate(DutyCycleBasedStirringProtocol(), "stirring")
    assert job.stop() == 0


# -- optical density ---------------------------------------------------------------------------
def test_od_calibration_from_standards_and_od_reading_reporting_od600(pio_home, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    pio_home.write_config("[simulation]\nclock_speed=50\nseed=5\n")
    calibration = calibrate(ODStandardsProtocol(readings_per_vial=3), "od90")
    assert calibration.angle == "90" and calibration.pd_channel == "2" and calibration.degree == 2
    assert calibration.recorded_data.x == [0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 0.0]
    signals = calibration.recorded_data.y
    assert signals == sorted(signals[:-1]) + [signals[-1]] and abs(signals[-1]) < 0.05  # rising; blank near 0
    save_calibration("od90", calibration)
    set_active_calibration("od90", "test")

    from pioreactor.plugins_core.simulator.world import reset_world

    reset_world(od=0.7)
    mark = mqtt_probe.mark()
    job = run_job("od_reading", "--interval", "5", run_options=("--config-override", "simulation", "clock_speed", "50"))

    def first_three(setting: str) -> list[dict]:  # type: ignore[type-arg]
        topic = pio_home.topic("od_reading", setting)
        for count in range(3, 12):  # skipping the empty payloads that clear a setting
            payloads = [p for p in mqtt_probe.wait_for_count(topic, count, since=mark) if p]
            if len(payloads) >= 3:
                return [json.loads(p) for p in payloads[:3]]
        raise AssertionError(f"no three readings on {topic}")

    # three readings: one may hold one of the simulated sensor's outliers
    ods, raws = first_three("od2"), first_three("raw_od2")
    assert all(od2["calibrated"] == 1 for od2 in ods)
    assert abs(statistics.median(od2["od"] for od2 in ods) - 0.7) < 0.05, ods
    for od2, raw in zip(ods, raws, strict=True):
        assert raw["od"] == pytest.approx(calibration.predict(od2["od"]), rel=1e-6)
        assert "calibrated" not in raw
    assert job.stop() == 0


def test_od_reading_refuses_a_calibration_of_another_photodiode(pio_home, pio) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from pioreactor.plugins_core.calibrations.api import ODCalibration, PolyFit, RecordedData

    elsewhere = ODCalibration(
        calibration_name="elsewhere", calibrated_on_pioreactor_unit="unit1", created_at=datetime.now(UTC),
        curve_data_=PolyFit([5.0, 0.0]), recorded_data=RecordedData(x=[0.0, 1.0], y=[0.0, 5.0]),
        angle="90", pd_channel="3", ir_led_intensity=50.0,
    )
    save_calibration("od90", elsewhere)
    set_active_calibration("od90", "elsewhere")
    result = pio("run", "od_reading", "--snapshot")
    assert result.returncode == 1
    assert "was made with the photodiode on channel 3, which is not at 90 degrees now" in result.stderr
    result = pio("run", "od_reading", "--snapshot", "--no-use-calibration")
    assert result.returncode == 0 and '"calibrated":0' in result.stdout
