"""Bad input to the command line gets one clear line, never a traceback or a wrong topic."""

from __future__ import annotations

import json

import pytest
from pioreactor.sdk.testing import PioHome


@pytest.mark.parametrize("unit", ["a/b", "#", "+", "unit\n1", "$broadcast"])
def test_a_bad_unit_name_is_refused_before_anything_runs(pio, pio_home: PioHome, unit: str) -> None:
    result = pio("run", "stirring", env={"PIO_UNIT": unit})
    assert result.returncode != 0
    assert "unit name" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "No jobs yet" in pio("jobs", "list").stdout  # it never started, so drove nothing


@pytest.mark.parametrize("experiment", ["a/b", "exp#1", "x+y", "tab\there"])
def test_a_bad_experiment_name_is_refused(pio, pio_home: PioHome, experiment: str) -> None:
    result = pio("run", "stirring", env={"EXPERIMENT": experiment})
    assert result.returncode != 0 and "experiment name" in result.stderr and "Traceback" not in result.stderr


def test_pio_mqtt_refuses_malformed_filters(pio, pio_home: PioHome) -> None:
    for topic in ("a/#/b", "a/b#", "a/x+/c", ""):
        result = pio("mqtt", "-t", topic, timeout=10)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "must be a whole level" in result.stderr or "cannot be empty" in result.stderr


def test_a_log_message_cannot_forge_log_lines(pio, mqtt_probe, pio_home: PioHome) -> None:
    forged = "all good\n12:00:00 ERROR   [dosing_automation] media bottle empty"
    assert pio("log", "-m", forged).returncode == 0
    record = json.loads(mqtt_probe.wait_for(pio_home.topic("logs", "app", "info")).payload)
    assert record["message"] == forged  # JSON keeps it intact
    lines = (pio_home.path / "logs" / "pioreactor.log").read_text().splitlines()
    assert [line for line in lines if "media bottle empty" in line] == [
        next(line for line in lines if "all good" in line)
    ]
    assert "all good\\n12:00:00 ERROR" in lines[-1]


def test_a_job_started_by_a_profile_cannot_redirect_the_log_file(pio, pio_home: PioHome, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "elsewhere.log"
    result = pio(
        "run", "--config-override", "logging", "log_file", str(target), "stirring",
        env={"JOB_SOURCE": "experiment_profile"},
    )  # fmt: skip
    assert result.returncode == 1 and "profiles cannot change" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("run", "led_intensity", "--A", "nan"),
        ("run", "od_reading", "--interval", "nan"),
        ("run", "stirring", "--target-rpm", "inf"),
        ("run", "add_media", "--ml", "nan"),
        ("logs", "-n", "-5"),
    ],
)
def test_non_finite_and_negative_numbers_are_refused_by_the_command_line(pio, pio_home: PioHome, args) -> None:  # type: ignore[no-untyped-def]
    result = pio(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Invalid value" in result.stderr
