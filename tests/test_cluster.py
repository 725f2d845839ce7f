"""A cluster on one machine: a leader and two workers, each its own PIO_HOME, unit name and web
server, one broker. `pio workers` and `pios` talk real HTTP to the workers' /unit_api."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from pioreactor.plugins_core.web.testing import WebServer, start_web_server
from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome, free_port, start_job, stop_leftover_jobs


@dataclass
class Worker:
    home: PioHome
    server: WebServer

    @property
    def unit(self) -> str:
        return self.home.unit

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


def _pios_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("pios")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from pioreactor.plugins_core.cluster.pios import main; main()", *args]


@pytest.fixture
def pios(pio_home: PioHome) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(_pios_command(*args), env=pio_home.env(), capture_output=True, text=True, timeout=timeout)

    return run


def _runner_for(home: PioHome) -> Callable[..., JobProcess]:
    """``pio run`` as the unit ``home`` (its own PIO_HOME and unit name)."""
    return partial(start_job, home)


@pytest.fixture
def workers(pio_home: PioHome, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two workers led by this test's unit, each serving /unit_api on a free port."""
    pio_home.write_config(f"[cluster]\nleader_hostname={pio_home.unit}\n")
    started: list[Worker] = []
    try:
        for index in (1, 2):
            home = PioHome(tmp_path / f"worker{index}", f"{pio_home.unit}-w{index}", pio_home.experiment, pio_home.broker)
            home.path.mkdir()
            home.write_config(f"[cluster]\nleader_hostname={pio_home.unit}\n")
            server = start_web_server(_runner_for(home))
            started.append(Worker(home, server))
        yield started
    finally:
        for worker in started:
            worker.server.stop()
            stop_leftover_jobs(worker.home)


def _add(pio: Callable[..., subprocess.CompletedProcess[str]], worker: Worker) -> None:
    added = pio("workers", "add", worker.unit, "--address", worker.address)
    assert added.returncode == 0, added.stderr
    assert f"{worker.unit} added" in added.stdout


def test_add_list_deactivate_and_remove_workers(pio, workers: list[Worker]) -> None:
    for worker in workers:
        _add(pio, worker)
    listed = pio("workers", "list")
    assert all(w.unit in listed.stdout and w.address in listed.stdout for w in workers)
    assert "inactive" not in listed.stdout

    assert pio("workers", "update-active", workers[0].unit, "0").returncode == 0
    assert "inactive" in pio("workers", "list").stdout
    status = pio("workers", "status")
    assert status.returncode == 0 and status.stdout.count(": ok") == 2

    assert pio("workers", "remove", workers[0].unit).returncode == 0
    assert workers[0].unit not in pio("workers", "list").stdout
    again = pio("workers", "remove", workers[0].unit)
    assert again.returncode != 0 and "not in the inventory" in again.stderr


def test_adding_a_worker_says_what_is_wrong(pio, workers: list[Worker]) -> None:
    closed_port = free_port()
    refused = pio("workers", "add", "ghost", "--address", f"127.0.0.1:{closed_port}")
    assert refused.returncode != 0
    assert f"nothing listens on port {closed_port}" in refused.stderr

    unresolved = pio("workers", "add", "ghost", "--address", "no-such-host.invalid")
    assert unresolved.returncode != 0 and "cannot resolve the name 'no-such-host.invalid'" in unresolved.stderr

    misnamed = pio("workers", "add", "someone-else", "--address", workers[0].address)
    assert misnamed.returncode != 0 and f"calls itself {workers[0].unit!r}" in misnamed.stderr
    assert "no workers" in pio("workers", "list").stdout


def test_the_leader_api_lists_adds_and_removes_workers(pio_home: PioHome, workers: list[Worker], web_server: WebServer) -> None:
    assert web_server.get("/api/workers").json() == []
    added = web_server.put("/api/workers", json={"pioreactor_unit": workers[0].unit, "address": workers[0].address})
    assert added.status == 201, added.text
    assert [w["pioreactor_unit"] for w in web_server.get("/api/workers").json()] == [workers[0].unit]

    bad = web_server.put("/api/workers", json={"pioreactor_unit": "ghost", "address": f"127.0.0.1:{free_port()}"})
    assert bad.status == 400 and "nothing listens" in bad.json()["cause"]

    inactive = web_server.put(f"/api/workers/{workers[0].unit}/is_active", json={"is_active": 0})
    assert inactive.status == 200 and inactive.json()["is_active"] == 0
    events = [h["event"] for h in web_server.get(f"/api/workers/{workers[0].unit}/history").json()]
    assert events == ["added", "deactivated"]
    assert web_server.delete(f"/api/workers/{workers[0].unit}").status == 200
    assert web_server.get(f"/api/workers/{workers[0].unit}").status == 404


def test_pios_runs_updates_and_kills_a_job_on_every_worker(pio, pios, workers: list[Worker], mqtt_probe: MqttProbe) -> None:
    for worker in workers:
        _add(pio, worker)
    ran = pios("run", "stirring", "--target-rpm", "300", "-y")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for worker in workers:
        assert f"{worker.unit}: ok" in ran.stdout
        mqtt_probe.wait_for(worker.home.topic("stirring", "$state"), "ready")

    since = mqtt_probe.mark()
    updated = pios("update-settings", "stirring", "--target-rpm", "450")
    assert updated.returncode == 0, updated.stdout
    for worker in workers:
        mqtt_probe.wait_for(worker.home.topic("stirring", "target_rpm"), lambda p: float(p) == 450.0, since=since)

    killed = pios("kill", "--job-name", "stirring", "-y")
    assert killed.returncode == 0, killed.stdout
    for worker in workers:
        mqtt_probe.wait_for(worker.home.topic("stirring", "$state"), "disconnected")


def test_a_dead_worker_is_reported_unreachable_quickly(pio, pios, workers: list[Worker], mqtt_probe: MqttProbe) -> None:
    for worker in workers:
        _add(pio, worker)
    workers[1].server.stop()
    started = time.monotonic()
    ran = pios("run", "stirring", "-y")
    elapsed = time.monotonic() - started
    assert ran.returncode == 1
    assert f"{workers[0].unit}: ok" in ran.stdout
    assert f"{workers[1].unit}: failed: " in ran.stdout and "nothing listens" in ran.stdout
    mqtt_probe.wait_for(workers[0].home.topic("stirring", "$state"), "ready")
    assert elapsed < 15  # the live unit's job start dominates; the dead one costs at most 2 s

    only_dead = pios("kill", "--all-jobs", "--units", workers[1].unit, "-y")
    assert only_dead.returncode == 1 and "failed" in only_dead.stdout


def test_a_worker_learns_its_experiment_from_the_leader_without_asking(
    pio, workers: list[Worker], mqtt_probe: MqttProbe
) -> None:
    worker = workers[0]
    _add(pio, worker)
    follower = _runner_for(worker.home)("cluster_follower", env={"EXPERIMENT": ""})
    try:
        mqtt_probe.wait_for(f"pioreactor/{worker.unit}/$experiment/cluster_follower/$state", "ready")
        assert pio("experiments", "create", "exp2").returncode == 0
        assigned = pio("experiments", "assign", "exp2", worker.unit)
        assert assigned.returncode == 0, assigned.stderr
        mqtt_probe.wait_for(f"pioreactor/{worker.unit}/$experiment/cluster_follower/assigned_experiment", "exp2")

        # a job started on the worker without $EXPERIMENT works for exp2: read locally, no HTTP
        job = _runner_for(worker.home)("stirring", env={"EXPERIMENT": ""})
        mqtt_probe.wait_for(f"pioreactor/{worker.unit}/exp2/stirring/$state", "ready")
        job.stop()

        # another leader's assignment is refused
        mqtt_probe.publish(
            f"pioreactor/{worker.unit}/$experiment/cluster/assignment", '{"experiment": "hijack", "leader": "intruder"}'
        )
        assert pio("experiments", "unassign", worker.unit).returncode == 0
        mqtt_probe.wait_for(f"pioreactor/{worker.unit}/$experiment/cluster_follower/assigned_experiment", "default")
        assert "Refused an assignment: it comes from 'intruder'" in follower.output()
    finally:
        follower.stop()


def test_a_worker_refuses_commands_from_another_leader(pio_home: PioHome, workers: list[Worker]) -> None:
    worker = workers[0]
    refused = worker.server.post("/unit_api/jobs/stop/all", headers={"X-Pioreactor-Leader": "intruder"})
    assert refused.status == 403 and "'intruder' is not this unit's leader" in refused.json()["error"]
    assert worker.server.post("/unit_api/jobs/stop/all", headers={"X-Pioreactor-Leader": pio_home.unit}).status == 202


def test_the_leader_api_runs_and_stops_jobs_on_its_workers(
    pio, workers: list[Worker], web_server: WebServer, mqtt_probe: MqttProbe
) -> None:
    for worker in workers:
        _add(pio, worker)
    assert pio("experiments", "create", "exp3").returncode == 0
    assert pio("experiments", "assign", "exp3", *(w.unit for w in workers)).returncode == 0

    one = workers[0].unit
    started = web_server.post(f"/api/workers/{one}/jobs/run/job_name/stirring/experiments/exp3", json={"options": {"target_rpm": 250}})
    result = web_server.wait_for_task(started, timeout=30)["result"]
    assert result[one]["ok"] is True and "pid" in result[one]["value"], result
    mqtt_probe.wait_for(f"pioreactor/{one}/exp3/stirring/$state", "ready")

    workers[1].server.stop()  # a dead worker: reported in its envelope, the other one answers
    stopped = web_server.post("/api/workers/$broadcast/jobs/stop/job_name/stirring/experiments/exp3")
    envelopes = web_server.wait_for_task(stopped, timeout=30)["result"]
    assert envelopes[one]["ok"] is True
    dead = envelopes[workers[1].unit]
    assert dead["ok"] is False and dead["error"]["kind"] == "unreachable" and dead["retryable"] is True
    mqtt_probe.wait_for(f"pioreactor/{one}/exp3/stirring/$state", "disconnected")


def test_a_homes_environment_can_be_overridden(pio_home: PioHome) -> None:
    # another unit's runner (or a job without $EXPERIMENT) overrides the home's own variables
    env = pio_home.env(PIO_HOME="/elsewhere", PIO_UNIT="other", EXPERIMENT="", EXTRA="1")
    assert (env["PIO_HOME"], env["PIO_UNIT"], env["EXPERIMENT"], env["EXTRA"]) == ("/elsewhere", "other", "", "1")
