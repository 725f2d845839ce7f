"""`pios sync-configs`, `cp`, `rm`, `plugins`, `reboot`, `shutdown` and the leader's `$broadcast`
routes on a cluster of three units on one machine (one leader, two simulated workers, each its own
PIO_HOME and web server; real HTTP, one broker). The cluster is shared by this module's tests,
which leave it as they found it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from pioreactor.plugins_core.web.testing import WebServer, start_web_server
from pioreactor.sdk.plugins import pio_command
from pioreactor.sdk.testing import Broker, JobProcess, PioHome, free_port, start_job, stop_leftover_jobs


@dataclass
class Cluster:
    leader: PioHome
    leader_server: WebServer
    workers: list[PioHome]
    servers: list[WebServer]

    def pios(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from pioreactor.plugins_core.cluster.pios import main; main()", *args]
        return subprocess.run(command, env=self.leader.env(), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def pio(self, *args: str, home: PioHome | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(pio_command(*args), env=(home or self.leader).env(), capture_output=True, text=True, timeout=60)


def _runner(home: PioHome) -> Callable[..., JobProcess]:
    """``pio run`` as the unit ``home`` (its own PIO_HOME and unit name)."""
    return partial(start_job, home)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mosquitto_broker: Broker) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    leader_name = f"lead-{os.getpid()}"
    homes = [PioHome(folder / name, name, "exp_c", mosquitto_broker) for name in (leader_name, f"{leader_name}-w1", f"{leader_name}-w2")]
    servers: list[WebServer] = []
    try:
        for home in homes:
            home.path.mkdir()
            home.write_config(f"[cluster]\nleader_hostname={leader_name}\n")
            servers.append(start_web_server(_runner(home)))
        made = Cluster(homes[0], servers[0], homes[1:], servers[1:])
        for home, server in zip(homes[1:], servers[1:], strict=True):
            added = made.pio("workers", "add", home.unit, "--address", f"127.0.0.1:{server.port}")
            assert added.returncode == 0, added.stderr
        yield made
    finally:
        for server in servers:
            server.stop()
        for home in homes:
            stop_leftover_jobs(home)


def test_sync_configs_pushes_the_shared_and_each_units_config(cluster: Cluster) -> None:
    one, two = cluster.workers
    shared = cluster.leader.config_path.read_text() + "\n[shared_marker]\nmark=1\n"
    cluster.leader.config_path.write_text(shared)
    copies = cluster.leader.path / "cluster_configs"
    copies.mkdir(exist_ok=True)
    (copies / f"config_{one.unit}.ini").write_text("[stirring.config]\ninitial_duty_cycle=33\n")

    synced = cluster.pios("sync-configs", "-y")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"{one.unit}: ok (received config.ini, unit_config.ini)" in synced.stdout
    assert f"{two.unit}: ok (received config.ini)" in synced.stdout
    assert all("[shared_marker]" in w.config_path.read_text() for w in cluster.workers)
    assert "initial_duty_cycle=33" in (one.path / "unit_config.ini").read_text()
    history = cluster.leader_server.get("/api/config/shared/history").json()
    assert "[shared_marker]" in history[0]["data"]

    only_specific = cluster.pios("sync-configs", "--specific", "--units", two.unit, "-y")
    assert only_specific.returncode == 0 and f"{two.unit}: ok (nothing to push)" in only_specific.stdout

    unknown = cluster.pios("sync-configs", "--units", "ghost", "-y")
    assert unknown.returncode != 0 and "not in the inventory" in unknown.stderr and "ghost" in unknown.stderr


def test_saving_config_through_the_leader_api_pushes_it(cluster: Cluster) -> None:
    one = cluster.workers[0]
    text = cluster.leader.config_path.read_text() + "\n[api_marker]\nmark=2\n"
    saved = cluster.leader_server.put("/api/config/shared", json={"code": text})
    assert saved.status == 200, saved.text
    assert {u: r["ok"] for u, r in saved.json()["units"].items()} == {w.unit: True for w in cluster.workers}
    assert all("[api_marker]" in w.config_path.read_text() for w in cluster.workers)

    specific = cluster.leader_server.put(f"/api/config/units/{one.unit}/specific", json={"code": "[od_reading.config]\nsamples_per_second=0.1\n"})
    assert specific.status == 200 and specific.json()["units"][one.unit]["ok"] is True, specific.text
    assert "samples_per_second=0.1" in (one.path / "unit_config.ini").read_text()
    assert "samples_per_second=0.1" in cluster.leader_server.get(f"/api/config/units/{one.unit}/specific").text
    bad = cluster.leader_server.put(f"/api/config/units/{one.unit}/specific", json={"code": "[broken"})
    assert bad.status == 400 and "samples_per_second=0.1" in (one.path / "unit_config.ini").read_text()


def test_upstream_config_file_names_cover_every_worker(cluster: Cluster) -> None:
    one, two = cluster.workers
    listed = cluster.leader_server.get("/api/configs").json()
    assert listed == ["config.ini", f"config_{cluster.leader.unit}.ini", f"config_{one.unit}.ini", f"config_{two.unit}.ini"]
    text = "[stirring.config]\npwm_hz=77\n"
    saved = cluster.leader_server.patch(f"/api/configs/config_{two.unit}.ini", json={"code": text, "filename": "x"})
    assert saved.status == 200 and saved.json()["units"][two.unit]["ok"] is True, saved.text
    assert (two.path / "unit_config.ini").read_text() == text  # pushed to the worker
    assert cluster.leader_server.get(f"/api/configs/config_{two.unit}.ini").text == text
    assert len(cluster.leader_server.get(f"/api/configs/config_{two.unit}.ini/history").json()) >= 1
    unknown = cluster.leader_server.get("/api/configs/config_ghost.ini")
    assert unknown.status == 404 and "GET /api/configs" in unknown.json()["remediation"]


def test_cp_and_rm_a_file_under_pio_home(cluster: Cluster, tmp_path: Path) -> None:
    source = cluster.leader.path / "plugins" / "notes.txt"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(b"hello \x00 workers")
    copied = cluster.pios("cp", str(source), "-y")
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert copied.stdout.count("ok (15 bytes)") == 2
    assert all((w.path / "plugins" / "notes.txt").read_bytes() == b"hello \x00 workers" for w in cluster.workers)

    removed = cluster.pios("rm", str(source), "--units", cluster.workers[0].unit, "-y")
    assert removed.returncode == 0, removed.stdout
    assert not (cluster.workers[0].path / "plugins" / "notes.txt").exists()
    assert (cluster.workers[1].path / "plugins" / "notes.txt").exists()
    again = cluster.pios("rm", str(source), "--units", cluster.workers[0].unit, "-y")
    assert again.returncode == 1 and "failed: no file 'plugins/notes.txt'" in again.stdout

    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    refused = cluster.pios("cp", str(outside), "-y")
    assert refused.returncode != 0 and "is outside $PIO_HOME" in refused.stderr

    worker = cluster.servers[0]
    for bad in ("../escape.txt", "/etc/passwd", "plugins/../../escape.txt"):
        answer = worker.put("/unit_api/system/files", json={"path": bad, "content_base64": "eA=="})
        assert answer.status == 400 and "is not allowed" in answer.json()["error"], bad
    assert not (cluster.workers[0].path.parent / "escape.txt").exists()


def test_reboot_and_shutdown_reach_the_simulated_board_only(cluster: Cluster) -> None:
    asked = cluster.pios("reboot")  # no terminal and no -y: refused rather than assumed
    assert asked.returncode != 0 and "-y" in asked.stderr

    rebooted = cluster.pios("reboot", "-y")
    assert rebooted.returncode == 0, rebooted.stdout + rebooted.stderr
    assert rebooted.stdout.count("simulated reboot: recorded; this machine was left alone") == 2

    task = cluster.leader_server.post("/api/units/$broadcast/system/shutdown")
    result = cluster.leader_server.wait_for_task(task, timeout=30)["result"]
    assert sorted(result) == sorted(w.unit for w in cluster.workers) and all(r["ok"] for r in result.values()), result

    code = "import json; from pioreactor.plugins_core.simulator.api import power_requests; print(json.dumps(power_requests()))"
    for home in cluster.workers:
        done = subprocess.run([sys.executable, "-c", code], env=home.env(), capture_output=True, text=True, timeout=30)
        assert [action for _, action in json.loads(done.stdout)] == ["reboot", "shutdown"], done.stderr


def test_an_unreachable_worker_fails_its_line_only(cluster: Cluster) -> None:
    added = cluster.pio("workers", "add", "ghost", "--address", f"127.0.0.1:{free_port()}", "--force")
    assert added.returncode == 0
    try:
        rebooted = cluster.pios("shutdown", "-y", "--units", "ghost", "--units", cluster.workers[0].unit)
        assert rebooted.returncode == 1
        assert "ghost: failed: 127.0.0.1 answers but nothing listens" in rebooted.stdout
        assert f"{cluster.workers[0].unit}: ok" in rebooted.stdout
    finally:
        assert cluster.pio("workers", "remove", "ghost").returncode == 0


def test_a_worker_that_never_answers_costs_two_seconds_at_most(cluster: Cluster) -> None:
    import socket
    import time

    # the same command with every worker answering: what this machine needs for it right now
    started = time.monotonic()
    assert cluster.pios("sync-configs", "--shared", "-y").returncode == 0
    answering = time.monotonic() - started
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        added = cluster.pio("workers", "add", "silent", "--address", f"127.0.0.1:{silent.getsockname()[1]}", "--force")
        assert added.returncode == 0
        try:
            started = time.monotonic()
            synced = cluster.pios("sync-configs", "--shared", "-y")
            elapsed = time.monotonic() - started
            assert synced.returncode == 1
            assert "silent: failed: no answer from 127.0.0.1" in synced.stdout and "within 2 s" in synced.stdout
            assert all(f"{w.unit}: ok" in synced.stdout for w in cluster.workers)
            # the silent worker costs its 2 s time-out and no more (with a margin
            # for a busy machine, where the two runs of pios differ by a second or two)
            assert elapsed < answering + 2.0 + 4.0, (elapsed, answering)
        finally:
            assert cluster.pio("workers", "remove", "silent").returncode == 0


def test_pios_plugins_reaches_each_worker(cluster: Cluster) -> None:
    refused = cluster.pios("plugins", "install", "not a name!", "-y")
    assert refused.returncode == 1
    assert refused.stdout.count("failed: 'not a name!' is not a plugin name") == 2, refused.stdout


def test_broadcast_routes_answer_for_every_worker(cluster: Cluster) -> None:
    server = cluster.leader_server
    units = sorted(w.unit for w in cluster.workers)
    for path in ("/api/workers/$broadcast/calibrations", "/api/workers/$broadcast/active_calibrations", "/api/units/$broadcast/capabilities"):
        result = server.wait_for_task(server.get(path), timeout=30)["result"]
        assert sorted(result) == units and all(r["ok"] for r in result.values()), (path, result)
    one = cluster.workers[0].unit
    listed = server.wait_for_task(server.get(f"/api/units/{one}/plugins/installed"), timeout=60)["result"]
    assert list(listed) == [one] and listed[one]["ok"] is True


def test_workers_status_shows_each_workers_clock(cluster: Cluster) -> None:
    status = cluster.pio("workers", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for worker in cluster.workers:
        line = next(row for row in status.stdout.splitlines() if row.startswith(f"{worker.unit}: ok"))
        skew = float(line.split("clock ")[1].split(" s from")[0])
        assert abs(skew) < 1.0, line  # one machine: one clock
    assert "warning" not in status.stderr


def test_discover_finds_a_unit_advertising_by_mdns(cluster: Cluster, tmp_path: Path) -> None:
    home = PioHome(tmp_path / "new", f"{cluster.leader.unit}-new", "exp_c", cluster.leader.broker)
    home.path.mkdir()
    home.write_config("[mdns]\nadvertise=1\n")
    server = start_web_server(_runner(home))
    try:
        for _ in range(4):  # the unit probes its name for a second or two before it answers
            found = cluster.pio("workers", "discover", "--seconds", "2")
            assert found.returncode == 0, found.stderr
            line = next((row for row in found.stdout.splitlines() if row.startswith(home.unit + " ")), None)
            if line is not None:
                break
        assert line is not None, found.stdout
        assert f":{server.port}" in line and "not added" in line
        # the leader's API too: units not in the inventory, for the Inventory page
        listed = cluster.leader_server.get("/api/workers/discover?seconds=2").json()
        assert any(u["pioreactor_unit"] == home.unit and u["address"].endswith(f":{server.port}") for u in listed), listed
        assert not any(u["pioreactor_unit"] in {w.unit for w in cluster.workers} for u in listed)
        bad = cluster.leader_server.get("/api/workers/discover?seconds=60")
        assert bad.status == 400 and "'seconds' must be at most 10" in bad.json()["error"]
    finally:
        server.stop()


def test_backup_database_copies_the_backup_to_workers(cluster: Cluster) -> None:
    backed_up = cluster.pio("run", "backup_database", "--backup-to-workers", "1")
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    first, second = sorted(cluster.workers, key=lambda w: w.unit)
    assert f"Copied the backup to {first.unit}." in backed_up.stdout
    written = Path(backed_up.stdout.split(" to ", 1)[1].split(" in ")[0])  # "Backed up A (...) to B in 0.1 s."
    relative = written.relative_to(cluster.leader.path)
    assert (first.path / relative).read_bytes() == written.read_bytes()
    assert not (second.path / relative).exists()

    too_many = cluster.pio("run", "backup_database", "--backup-to-workers", "5")
    assert too_many.returncode == 1 and "Only 2 active worker(s) to copy to, not 5." in too_many.stderr


def test_a_worker_cannot_run_pios(cluster: Cluster) -> None:
    worker = cluster.workers[0]
    command = [sys.executable, "-c", "from pioreactor.plugins_core.cluster.pios import main; main()", "kill", "--all-jobs", "-y"]
    refused = subprocess.run(command, env=worker.env(), capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "workers cannot run `pios` commands" in refused.stderr


def test_pios_flags_as_upstream(cluster: Cluster) -> None:
    typo = cluster.pios("run", "stirring", "--unit", cluster.workers[0].unit, "-y")
    assert typo.returncode == 2 and "did you mean --units" in typo.stderr
    by_source = cluster.pios("kill", "--job-source", "experiment_profile", "--name", "stirring", "-y")
    assert by_source.returncode == 0 and by_source.stdout.count(": ok") == 2, by_source.stdout + by_source.stderr


def test_config_clock_and_logs_routes_reach_the_workers(cluster: Cluster) -> None:
    server = cluster.leader_server
    units = sorted(w.unit for w in cluster.workers)
    configs = server.get("/api/config/units/$broadcast").json()
    assert sorted(configs["configs"]) == units and configs["errors"] == {}
    one = cluster.workers[0].unit
    merged = server.get(f"/api/workers/{one}/configuration").json()
    assert merged["cluster"]["leader_hostname"] == cluster.leader.unit
    clocks = server.wait_for_task(server.get("/api/units/$broadcast/system/utc_clock"), timeout=30)["result"]
    assert sorted(clocks) == units and all(c["value"]["pioreactor_unit"] == u for u, c in clocks.items())
    logged = server.post(f"/api/workers/{one}/experiments/exp_c/logs", json={"message": "from the leader's UI"})
    assert logged.status == 202, logged.text


def test_a_second_leader_cannot_push_its_config(cluster: Cluster) -> None:
    # upstream #344: another leader's sync-configs took a worker over
    worker, server = cluster.workers[0], cluster.servers[0]
    before = worker.config_path.read_text()
    refused = server.put("/unit_api/config/shared", json={"code": "[intruder]\nx=1\n"}, headers={"X-Pioreactor-Leader": "intruder"})
    assert refused.status == 403 and "'intruder' is not this unit's leader" in refused.json()["error"]
    assert worker.config_path.read_text() == before
