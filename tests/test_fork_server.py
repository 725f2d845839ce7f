"""The unit's fork server: `pio` commands run in processes forked from it and behave as before
(output, exit codes, signals, `pio kill`, the job registry); without it `pio` runs them itself."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pioreactor.sdk.plugins import pio_command
from pioreactor.sdk.testing import PioHome

Pio = Callable[..., subprocess.CompletedProcess[str]]
TIMEOUT = 20.0


def _status(pio: Pio) -> dict | None:  # type: ignore[type-arg]
    result = pio("fork-server", "status", "--json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


@pytest.fixture
def server(pio_home: PioHome, pio: Pio) -> Iterator[subprocess.Popen[str]]:
    """`pio fork-server start` in the foreground, as a service manager would run it."""
    log = (pio_home.path / "fork_server.out").open("w")
    process = subprocess.Popen(
        pio_command("fork-server", "start"), env=pio_home.env(), stdout=log, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_until(lambda: _status(pio) is not None or process.poll() is not None, "the fork server to answer")
        assert process.poll() is None, (pio_home.path / "fork_server.out").read_text()
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _served(pio: Pio) -> int:
    status = _status(pio)
    assert status is not None
    return int(status["served"])


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _running(pio: Pio) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(pio("jobs", "list", "--running", "--json").stdout)  # type: ignore[no-any-return]


def test_status_without_a_server(pio: Pio) -> None:
    result = pio("fork-server", "status")
    assert result.returncode == 1 and "no fork server is running" in result.stdout


def test_commands_run_in_the_server_with_their_output_and_exit_codes(server, pio: Pio) -> None:  # type: ignore[no-untyped-def]
    before = _served(pio)
    help_text = pio("--help")
    assert help_text.returncode == 0 and "fork-server" in help_text.stdout
    missing = pio("nosuch")
    assert missing.returncode == 2 and "No such command 'nosuch'" in missing.stderr
    refused = pio("run", "stirring", "--target-rpm", "-5")
    assert refused.returncode == 1 and "target_rpm" in refused.stderr
    assert _served(pio) >= before + 3  # (the status calls go through it too)


def test_a_job_started_through_the_server_stops_on_sigterm_and_ctrl_c(server, pio: Pio, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    for sig in (signal.SIGTERM, signal.SIGINT):
        mark = mqtt_probe.mark()
        job = run_job("stirring")
        job.wait_for_state(mqtt_probe, "ready", since=mark)
        [record] = _running(pio)
        assert record["pid"] != job.pid and _parent(record["pid"]) == server.pid  # forked by the server
        assert Path(f"/proc/{record['pid']}/cmdline").read_bytes().startswith(b"pio run stirring")
        job.signal(sig)
        assert job.wait() == 0
        job.wait_for_state(mqtt_probe, "disconnected", since=mark)
        assert "Ready." in job.output()
        assert _running(pio) == []


def test_a_config_edited_after_the_server_started_reaches_the_next_job(server, pio_home: PioHome, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    # the server read the unit's files before forking: a job reads them as they are when it starts
    (pio_home.path / "unit_config.ini").write_text("[stirring.config]\ninitial_target_rpm=432\n")
    job = run_job("stirring")
    mqtt_probe.wait_for(job.home.topic("stirring", "target_rpm"), lambda value: float(value) == 432)
    job.signal(signal.SIGTERM)
    assert job.wait() == 0


def test_pio_kill_stops_it_and_its_pio_run_exits(server, pio: Pio, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring")
    job.wait_for_state(mqtt_probe, "ready")
    assert pio("kill", "--all-jobs").stdout.strip() == "Killed 1 job(s)."
    assert job.wait() == 0
    assert mqtt_probe.payloads(job.home.topic("stirring", "$state"))[-1] == "disconnected"


def test_killing_pio_run_stops_its_job(server, pio: Pio, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring")
    job.wait_for_state(mqtt_probe, "ready")
    [record] = _running(pio)
    job.signal(signal.SIGKILL)  # no chance to forward anything: the server notices it is gone
    job.wait()
    job.wait_for_state(mqtt_probe, "disconnected")
    _wait_until(lambda: _running(pio) == [], f"job {record['pid']} to leave the registry")


def test_without_the_server_or_with_another_python_path_pio_runs_commands_itself(server, pio: Pio) -> None:  # type: ignore[no-untyped-def]
    before = _served(pio)
    assert pio("version", env={"PIO_NO_FORK_SERVER": "1"}).returncode == 0
    assert pio("version", env={"PYTHONPATH": "/nonexistent"}).returncode == 0  # refused: runs here
    assert _served(pio) == before + 1  # only the status call before this one


def test_stop_waits_for_nothing_when_idle_and_pio_then_runs_commands_itself(server, pio: Pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    stopped = pio("fork-server", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert server.wait(TIMEOUT) == 0
    assert not (pio_home.path / "run" / "fork_server.sock").exists()
    assert pio("version").returncode == 0
    assert pio("fork-server", "status").returncode == 1


GREETER = '''
from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("greeter", "pioreactor_local_plugin_greeter:Greeter", summary="Greet from a single file")
'''


def test_plugin_changes_and_switches_are_seen(server, pio: Pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    skipped = pio("plugins", "list", "--json", env={"PIO_DISABLED_PLUGINS": "stirring"})
    assert "stirring" not in {row["name"] for row in json.loads(skipped.stdout)}  # not the server's set
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "greeter.py").write_text(GREETER)
    before = _served(pio)
    assert "Greet from a single file" in pio("run", "--help").stdout  # refused by the server: run here
    assert _served(pio) == before  # from now on it refuses every command, these status calls too
    assert "plugins changed" in pio("fork-server", "status").stdout


def test_a_job_outlives_a_killed_server_and_pio_run_waits_for_it(server, pio: Pio, run_job, mqtt_probe) -> None:  # type: ignore[no-untyped-def]
    job = run_job("stirring")
    job.wait_for_state(mqtt_probe, "ready")
    server.kill()
    server.wait(TIMEOUT)
    assert job.process.poll() is None  # the job and its `pio run` go on
    assert pio("version").returncode == 0  # nothing listens any more: pio runs commands itself
    assert pio("kill", "--all-jobs").stdout.strip() == "Killed 1 job(s)."
    assert job.wait() == 1  # its exit code went with the server
    assert "the fork server stopped while the job ran" in job.output()
