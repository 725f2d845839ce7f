"""The shared vial behind the simulator's hardware: one world per unit, seen by every process.

In-process tests drive a manual clock; the two-process test runs on the shared scaled clock.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pioreactor.kernel.clock import Clock, get_clock, set_clock
from pioreactor.kernel.config import get_config
from pioreactor.kernel.plugins import load_config_with_plugins
from pioreactor.plugins_core.simulator.backend import SimulatedUnit
from pioreactor.plugins_core.simulator.faults import set_fault
from pioreactor.plugins_core.simulator.sensors import photodiode_signal
from pioreactor.plugins_core.simulator.vial import Vial
from pioreactor.plugins_core.simulator.world import get_world, ground_truth, reset_world, vial_parameters
from pioreactor.sdk import ConfigError, local_intermittent_storage
from pioreactor.sdk.testing import reset_process_state

MINUTE = 60.0
HOUR = 3600.0


class ManualClock(Clock):
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sim:
    home: Path
    clock: ManualClock

    def write_config(self, text: str = "") -> None:
        """config.ini: a fixed seed, no mains ripple (tested in the model; here tests take the
        means of quick bursts), then ``text``."""
        base = "[simulation]\nseed = 7\nmains_ripple = 0\n\n"
        (self.home / "config.ini").write_text(base + textwrap.dedent(text))
        reset_process_state()
        set_clock(self.clock)
        load_config_with_plugins()  # as a job's process does: [PWM] comes from the plugins that own the channels

    def unit(self) -> SimulatedUnit:
        return SimulatedUnit(get_config(), self.clock)


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    simulation = Sim(tmp_path, ManualClock())
    simulation.write_config()
    yield simulation
    reset_process_state()


def mean_voltage(unit: SimulatedUnit, channel: str, n: int = 50) -> float:
    adc = unit.adc()
    return sum(adc.read_voltage(channel) for _ in range(n)) / n


# -- actuators and sensors -------------------------------------------------------------------
def test_photodiodes_see_the_culture_lit_by_the_ir_led(sim: Sim) -> None:
    unit = sim.unit()
    assert mean_voltage(unit, "2") == pytest.approx(0.002, abs=0.0005)  # IR off: the dark offset
    unit.led_driver().set_intensity("A", 50)
    truth = ground_truth()
    assert truth["leds"] == {"A": 50.0, "B": 0.0, "C": 0.0, "D": 0.0}
    assert mean_voltage(unit, "1") == pytest.approx(0.102, rel=0.02)  # 1 = REF
    assert mean_voltage(unit, "2") == pytest.approx(photodiode_signal("90", truth["od"], 50), rel=0.02)
    assert mean_voltage(unit, "3") < 0.002  # no photodiode configured there
    assert mean_voltage(unit, "aux") < 0.002
    unit.led_driver().set_intensity("B", 100)  # white light leaks into the photodiodes
    assert mean_voltage(unit, "2") > photodiode_signal("90", truth["od"], 50) + 0.04


def test_photodiodes_follow_the_growing_culture(sim: Sim) -> None:
    sim.write_config("[simulation]\nlag_hours = 0\n")
    unit = sim.unit()
    reset_world(od=0.1, temperature=37, heater_duty_cycle=100 * 15 / 18)  # held at 37 C
    unit.led_driver().set_intensity("A", 50)
    before = mean_voltage(unit, "2")
    sim.clock.advance(3 * HOUR)
    truth = ground_truth()
    assert truth["od"] == pytest.approx(0.1 * 2 ** (3 / 1.25), rel=0.05)
    assert truth["growth_rate"] == pytest.approx(math.log(2) / (75 / 60), rel=0.05)
    assert mean_voltage(unit, "2") > 3 * before
    assert mean_voltage(unit, "1") == pytest.approx(0.102, rel=0.02)  # REF does not care


def test_channels_and_labels_come_from_config(sim: Sim) -> None:
    sim.write_config(
        """
        [leds]
        A = white_light
        B = IR

        [od_config.photodiode_channel]
        1 = 90
        2 = REF
        3 = 180
        """
    )
    unit = sim.unit()
    unit.led_driver().set_intensity("B", 50)
    od = ground_truth()["od"]
    assert mean_voltage(unit, "2") == pytest.approx(0.102, rel=0.02)
    assert mean_voltage(unit, "1") == pytest.approx(photodiode_signal("90", od, 50), rel=0.02)
    assert mean_voltage(unit, "3") == pytest.approx(photodiode_signal("180", od, 50), rel=0.02)


def test_bad_values_are_refused_with_the_value(sim: Sim) -> None:
    unit = sim.unit()
    with pytest.raises(ValueError, match="'E'"):
        unit.led_driver().set_intensity("E", 10)
    with pytest.raises(ValueError, match="120"):
        unit.led_driver().set_intensity("A", 120)
    with pytest.raises(ValueError, match="'5'"):
        unit.adc().read_voltage("5")
    with get_world() as world, pytest.raises(ValueError, match="200"):
        world.set_pump_duty_cycle("media", 200)  # the transaction is rolled back...
    assert ground_truth()["pumps"]["media"] == 0.0  # ...and the world still works


def test_bad_simulation_config_names_the_key(sim: Sim) -> None:
    sim.write_config("[simulation]\noptimal_temperature = 50\n")
    with pytest.raises(ConfigError, match="optimal_temperature"):
        sim.unit()
    sim.write_config("[od_config.photodiode_channel]\n2 = 100\n")
    with pytest.raises(ConfigError, match="photodiode_channel.*'100'"):
        sim.unit()


def test_a_state_saved_by_another_version_is_replaced(sim: Sim) -> None:
    with local_intermittent_storage("simulator_world") as store:
        store["state"] = {"biomass": 3}
    assert ground_truth()["od"] == pytest.approx(0.05)


def test_the_heater_pwm_warms_the_vial_and_the_sensor_reads_it(sim: Sim) -> None:
    unit = sim.unit()
    heater = unit.pwm("5", 16)  # [PWM] 5 = heating
    heater.set_duty_cycle(100)
    sim.clock.advance(30 * MINUTE)
    truth = ground_truth()
    assert truth["temperature"] == pytest.approx(40.0, abs=0.1) and truth["heater_duty_cycle"] == 100
    sensor = unit.temperature_sensor()
    reads = [sensor.read_celsius() for _ in range(200)]
    assert sum(reads) / len(reads) == pytest.approx(truth["temperature"], abs=0.02)
    assert max(abs(r - truth["temperature"]) for r in reads) < 0.3
    with local_intermittent_storage("simulator_actuators") as store:
        assert store["heating"]["duty_cycle"] == 100
    heater.close()
    assert ground_truth()["heater_duty_cycle"] == 0.0
    sim.clock.advance(30 * MINUTE)
    assert ground_truth()["temperature"] == pytest.approx(22.0, abs=0.1)


def test_the_pump_pwms_move_liquid(sim: Sim) -> None:
    unit = sim.unit()
    reset_world(od=1.0)
    media, waste = unit.pwm("2", 250), unit.pwm("4", 250)  # [PWM] 2 = media, 4 = waste
    media.set_duty_cycle(100)
    sim.clock.advance(3.0)  # 3 s at 1 ml/s
    media.off()
    truth = ground_truth()
    assert truth["volume_ml"] == pytest.approx(17.0) and truth["media_added_ml"] == pytest.approx(3.0)
    assert truth["od"] == pytest.approx(14 / 17, rel=0.01)
    waste.set_duty_cycle(100)
    sim.clock.advance(10.0)
    waste.off()
    truth = ground_truth()
    assert truth["volume_ml"] == pytest.approx(14.0) and truth["waste_removed_ml"] == pytest.approx(3.0)
    assert truth["overflowed_ml"] == 0.0
    media.set_duty_cycle(100)  # forgotten on: the vial spills
    sim.clock.advance(10.0)
    media.close()
    truth = ground_truth()
    assert truth["volume_ml"] == pytest.approx(20.0) and truth["overflowed_ml"] == pytest.approx(4.0)


def test_every_unit_in_a_process_shares_the_vial_and_time_never_runs_twice(sim: Sim) -> None:
    first, second = sim.unit(), sim.unit()
    start = ground_truth()
    first.led_driver().set_intensity("A", 30)
    for _ in range(10):
        sim.clock.advance(MINUTE)
        first.adc().read_voltage("2")
        second.adc().read_voltage("2")
        second.temperature_sensor().read_celsius()
    truth = ground_truth()
    assert truth["leds"]["A"] == 30.0
    assert truth["advanced_seconds"] == pytest.approx(10 * MINUTE)
    assert truth["time"] - start["time"] == pytest.approx(10 * MINUTE)


# -- faults ----------------------------------------------------------------------------------
def test_a_disconnected_photodiode_reads_about_zero(sim: Sim) -> None:
    unit = sim.unit()
    unit.led_driver().set_intensity("A", 50)
    set_fault("photodiode_disconnected", "2")
    assert mean_voltage(unit, "2") < 0.001
    assert mean_voltage(unit, "1") == pytest.approx(0.102, rel=0.02)
    set_fault("photodiode_disconnected", True)
    assert mean_voltage(unit, "1") < 0.001 and mean_voltage(unit, "2") < 0.001
    set_fault("photodiode_disconnected", False)
    assert mean_voltage(unit, "1") == pytest.approx(0.102, rel=0.02)


def test_a_stuck_heater_heats_at_full_power(sim: Sim) -> None:
    unit = sim.unit()
    heater = unit.pwm("5", 16)
    heater.set_duty_cycle(0)
    set_fault("heater_stuck_on")
    sim.clock.advance(30 * MINUTE)
    assert unit.temperature_sensor().read_celsius() == pytest.approx(40.0, abs=0.3)
    set_fault("heater_stuck_on", False)
    sim.clock.advance(30 * MINUTE)
    assert unit.temperature_sensor().read_celsius() == pytest.approx(22.0, abs=0.3)


def test_a_garbage_temperature_sensor_returns_wild_values(sim: Sim) -> None:
    unit = sim.unit()
    set_fault("temperature_sensor_garbage")
    reads = [unit.temperature_sensor().read_celsius() for _ in range(100)]
    wild = [r for r in reads if math.isnan(r) or abs(r - 22.0) > 5]
    assert len(wild) > 80
    assert any(math.isnan(r) for r in reads) and all(math.isnan(r) or -50 <= r <= 150 for r in reads)
    assert ground_truth()["temperature"] == pytest.approx(22.0)  # the vial itself is fine


# -- several processes -----------------------------------------------------------------------
READER = """
import json, sys
from pioreactor.sdk import get_clock, get_config
from pioreactor.plugins_core.simulator.backend import SimulatedUnit
from pioreactor.plugins_core.simulator.world import ground_truth

deadline = float(sys.argv[1])
clock = get_clock()
unit = SimulatedUnit(get_config(), clock)
adc, sensor = unit.adc(), unit.temperature_sensor()
seen = []
while clock.time() < deadline or len(seen) < 25:  # enough rows even if it started late
    volts, celsius = adc.read_voltage("2"), sensor.read_celsius()
    truth = ground_truth()
    seen.append([truth["time"], truth["od"], truth["temperature"], volts, celsius])
    clock.sleep(120)
unit.close()
print(json.dumps(seen))
"""


def test_two_processes_see_one_vial_that_advances_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    (tmp_path / "config.ini").write_text("[simulation]\nclock_speed = 20000\ninitial_temperature = 37\n")
    reset_process_state()
    try:
        # held at 37 C by the heater, lit at 50 %, from the start
        created = reset_world(heater_duty_cycle=100 * 15 / 18, leds={"A": 50.0})["created_at"]
        deadline = created + 5 * HOUR  # about 0.9 s of wall-clock time
        readers = [
            subprocess.Popen(
                [sys.executable, "-c", READER, str(deadline)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
            )
            for _ in range(2)
        ]
        outputs = [reader.communicate(timeout=30)[0] for reader in readers]
        assert [reader.returncode for reader in readers] == [0, 0]
        seen = [json.loads(output) for output in outputs]
        assert all(len(rows) > 20 for rows in seen)

        # one trajectory: both processes' views lie on the model's curve from the creation on
        params = vial_parameters(get_config())
        model = Vial.new(params, created, temperature=37.0)
        model.set_heater_duty_cycle(100 * 15 / 18)
        for t, od, temperature, _, _ in sorted(row for rows in seen for row in rows):
            model.advance_to(t)
            assert od == pytest.approx(model.od, rel=1e-6)
            assert temperature == pytest.approx(37.0, abs=1e-6)
        assert model.od > 2 * 0.05  # it did grow during the run

        # and the state advanced once: no interval was integrated by both processes
        truth = ground_truth()
        assert truth["advanced_seconds"] == pytest.approx(truth["time"] - created, abs=1e-3)

        # each process's sensors read that vial, within noise
        for rows in seen:
            ratios = sorted(v / photodiode_signal("90", od, 50.0) for _, od, _, v, _ in rows)
            assert ratios[len(ratios) // 2] == pytest.approx(1.0, abs=0.03)
            errors = sorted(abs(c - temperature) for _, _, temperature, _, c in rows)
            assert errors[len(errors) // 2] < 0.1
    finally:
        reset_process_state()


def test_the_shared_clock_reaches_the_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    (tmp_path / "config.ini").write_text("[simulation]\nclock_speed = 36000\n")
    reset_process_state()
    try:
        start = reset_world()
        get_clock().sleep(HOUR)  # 0.1 s of wall-clock time
        truth = ground_truth()
        assert truth["time"] - start["time"] >= HOUR
        assert truth["od"] > start["od"]
    finally:
        reset_process_state()
