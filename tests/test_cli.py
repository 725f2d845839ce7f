"""The pio command line as a user meets it."""

from __future__ import annotations

import json
import subprocess
import sys

from pioreactor.kernel.version import __version__
from pioreactor.sdk.testing import PioHome

FAST = ("--config-override", "simulation", "clock_speed", "20")


def test_help_lists_the_commands(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("--help")
    assert result.returncode == 0
    for command in ("run", "kill", "jobs", "plugins", "mqtt", "log", "logs", "version"):
        assert f"  {command} " in result.stdout


def test_help_does_not_import_jobs_or_mqtt(pio_home: PioHome) -> None:
    code = (
        "import sys\nfrom pioreactor.kernel.cli import pio\n"
        "try:\n    pio.main(['run', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.startswith(('paho', 'pioreactor.plugins_core.stirring.job', 'msgspec'))]\n"
        "print(heavy)\n"
    )
    subprocess.run([sys.executable, "-c", code], env=pio_home.env(), capture_output=True, check=True)  # index
    result = subprocess.run([sys.executable, "-c", code], env=pio_home.env(), capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version(pio) -> None:  # type: ignore[no-untyped-def]
    assert pio("version").stdout.strip() == __version__
    verbose = pio("version", "-v").stdout
    assert "Hardware backend: simulator" in verbose and "Python" in verbose


def test_kill_needs_a_filter_and_stops_matching_jobs(pio, run_job, mqtt_probe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    refused = pio("kill")
    assert refused.returncode == 2 and "--all-jobs" in refused.stderr
    job = run_job("stirring", run_options=FAST)
    job.wait_for_state(mqtt_probe, "ready")
    assert pio("kill", "--job-name", "other").stdout.strip() == "Killed 0 job(s)."
    result = pio("kill", "--experiment", pio_home.experiment)
    assert result.stdout.strip() == "Killed 1 job(s)."
    assert job.wait(5) == 0
    job.wait_for_state(mqtt_probe, "disconnected")


def test_jobs_list_and_set(pio, run_job, mqtt_probe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    assert pio("jobs", "list", "--running").stdout.strip() == "No running jobs."
    job = run_job("stirring", run_options=FAST, env={"JOB_SOURCE": "experiment_profile"})
    job.wait_for_state(mqtt_probe, "ready")

    rows = json.loads(pio("jobs", "list", "--running", "--json").stdout)
    assert [(r["job_name"], r["pid"], r["job_source"]) for r in rows] == [("stirring", job.pid, "experiment_profile")]
    assert rows[0]["settings"]["$state"] == "ready" and rows[0]["settings"]["target_rpm"] == "500.0"

    result = pio("jobs", "set", "stirring", "target-rpm", "410")
    assert result.returncode == 0 and result.stdout.strip() == "stirring target_rpm = 410.0"
    refused = pio("jobs", "set", "stirring", "target_rpm", "lots")
    assert refused.returncode == 1 and "stirring refused" in refused.stderr and "lots" in refused.stderr
    assert job.process.poll() is None
    paused = pio("jobs", "set", "stirring", "state", "sleeping")
    assert paused.returncode == 0 and paused.stdout.strip() == "stirring $state = sleeping"

    job.stop()
    missing = pio("jobs", "set", "stirring", "target_rpm", "400")
    assert missing.returncode == 1 and "stirring is not running" in missing.stderr
    history = pio("jobs", "list").stdout
    assert "stirring" in history and "ended" in history


def test_log_reaches_mqtt_and_the_log_file(pio, mqtt_probe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    assert pio("log", "-m", "media bottle swapped", "-l", "notice").returncode == 0
    seen = mqtt_probe.wait_for(pio_home.topic("logs", "app", "notice"))
    record = json.loads(seen.payload)
    assert record["message"] == "media bottle swapped" and record["level"] == "NOTICE" and record["task"] == "CLI"
    logs = pio("logs", "-n", "5").stdout
    assert "media bottle swapped" in logs and "NOTICE" in logs


def test_mqtt_tail_prints_messages(pio_home: PioHome, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    mqtt_probe.publish(pio_home.topic("demo", "value"), "42", retain=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "pioreactor.kernel.cli", "mqtt", "-t", pio_home.topic("demo", "#")],
        env=pio_home.env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.rstrip().endswith(f"{pio_home.topic('demo', 'value')}  42")
    finally:
        process.terminate()
        process.wait(5)
