"""``pio kill``: long-running jobs are spared, jobs still starting are stopped, ``--job-id``."""

from __future__ import annotations

import json
import time
from typing import Any

from pioreactor.sdk.testing import MqttProbe, PioHome
from test_pumps import calibrate, truth, wait_until

# eight jobs that drive hardware, as a lab starts them at the beginning of an experiment
EIGHT_JOBS: list[tuple[str, ...]] = [
    ("stirring", "--target-rpm", "500"),
    ("od_reading",),
    ("growth_rate_calculating",),
    ("temperature_automation", "--automation-name", "thermostat", "--target-temperature", "40"),
    ("led_automation", "--automation-name", "light_dark_cycle", "--light-intensity", "30"),
    ("add_media", "--continuously"),
    ("remove_waste", "--continuously"),
    ("add_alt_media", "--continuously"),
]


def running_jobs(pio: Any) -> list[dict[str, Any]]:
    result = pio("jobs", "list", "--running", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def hardware_is_off() -> bool:
    vial = truth()
    return vial["heater_duty_cycle"] == 0.0 and not any(vial["pumps"].values())


def test_kill_all_jobs_spares_long_running_jobs(run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    streamer = run_job("mqtt_to_db_streaming")
    stirring = run_job("stirring", "--target-rpm", "400")
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/mqtt_to_db_streaming/$state", "ready")

    result = pio("kill", "--all-jobs")
    assert result.returncode == 0, result.stderr
    assert "Killed 1 job(s)." in result.stdout
    assert stirring.wait() == 0
    assert streamer.process.poll() is None  # still recording
    listed = running_jobs(pio)
    assert [(job["job_name"], job["is_long_running"]) for job in listed] == [("mqtt_to_db_streaming", True)]

    # named, it goes
    result = pio("kill", "--job-name", "mqtt_to_db_streaming")
    assert "Killed 1 job(s)." in result.stdout
    assert streamer.wait() == 0


def test_kill_job_id_stops_only_that_job(run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    stirring = run_job("stirring", "--target-rpm", "400")
    od = run_job("od_reading")
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
    mqtt_probe.wait_for(pio_home.topic("od_reading", "$state"), "ready")
    ids = {job["job_name"]: job["job_id"] for job in running_jobs(pio)}

    result = pio("kill", "--job-id", str(ids["od_reading"]))
    assert result.returncode == 0, result.stderr
    assert "Killed 1 job(s)." in result.stdout
    assert od.wait() == 0
    assert stirring.process.poll() is None
    assert pio("kill", "--job-id", "999999").stdout.strip() == "Killed 0 job(s)."
    assert stirring.stop() == 0


def _start_eight_then_kill(run_job, pio, pio_home: PioHome, delay: float) -> tuple[list[Any], str]:  # type: ignore[no-untyped-def]
    calibrate()
    jobs = [run_job(*job) for job in EIGHT_JOBS]
    started = time.monotonic()
    # the scenario itself: `pio kill` typed a moment after the jobs were launched
    while time.monotonic() - started < delay:
        time.sleep(0.01)
    result = pio("kill", "--all-jobs")
    assert result.returncode == 0, result.stderr
    return jobs, result.stdout


def _all_stopped(jobs: list[Any]) -> None:
    for job in jobs:
        code = job.wait(30)
        # a job defers SIGTERM while it starts; an automation's command (a click command that
        # builds its job later) is still killed outright, before it touched any hardware
        assert code == 0 or (code == -15 and job.name.endswith("_automation")), job.output()
    wait_until(hardware_is_off)
    # nothing comes back on once they are gone
    assert hardware_is_off()


def test_kill_all_jobs_stops_jobs_that_have_not_claimed_their_name_yet(run_job, pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    jobs, _ = _start_eight_then_kill(run_job, pio, pio_home, delay=0.0)
    _all_stopped(jobs)
    for job in jobs:
        assert "Ready." not in job.output()


def test_kill_all_jobs_stops_jobs_that_are_still_starting(run_job, pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    for delay in (0.3, 1.0):
        jobs, out = _start_eight_then_kill(run_job, pio, pio_home, delay=delay)
        print(f"\npio kill --all-jobs {delay} s after starting eight jobs: {out.strip()}")
        _all_stopped(jobs)
        assert running_jobs(pio) == []


def test_kill_all_jobs_switches_off_what_a_dead_job_left_on(run_job, pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    calibrate()
    dose = run_job("add_media", "--continuously")
    wait_until(lambda: truth()["pumps"].get("media", 0) > 0)
    dose.signal(9)
    dose.wait()
    assert truth()["pumps"]["media"] > 0  # no monitor on this unit: it keeps pumping
    result = pio("kill", "--all-jobs")
    assert "Switched off media (PWM 2) (left on by add_media)." in result.stdout
    assert truth()["pumps"]["media"] == 0


def test_a_pio_run_that_never_ran_leaves_no_job_behind(pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    assert pio("run", "stirrin").returncode == 2  # a typo
    assert pio("run", "stirring", "--no-such-option").returncode == 2
    assert pio("run", "stirring", "--help").returncode == 0
    listed = pio("jobs", "list", "--json")
    assert json.loads(listed.stdout) == [], listed.stdout


def test_long_running_jobs_start_on_an_inactive_unit(run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    refused = pio("run", "stirring", env={"ACTIVE": "0"})
    assert refused.returncode == 1 and "not active" in refused.stderr
    monitor = run_job("monitor", env={"ACTIVE": "0"})
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/monitor/$state", "ready")
    assert monitor.stop() == 0
