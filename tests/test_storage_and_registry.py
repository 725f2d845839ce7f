"""Key-value stores and the registry of running jobs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from pioreactor.kernel import storage
from pioreactor.kernel.errors import JobAlreadyRunningError
from pioreactor.kernel.job_registry import RunningJobs
from pioreactor.sdk import local_intermittent_storage, local_persistent_storage


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    return tmp_path


def test_persistent_storage_round_trips_types(home: Path) -> None:
    with local_persistent_storage("calibrations") as store:
        store["od"] = {"slope": 1.5, "angles": [90, 135]}
        store["count"] = 3
    with local_persistent_storage("calibrations") as store:
        assert store["od"] == {"slope": 1.5, "angles": [90, 135]}
        assert store.get("count") == 3 and "missing" not in store
        assert store.keys() == ["count", "od"]


def test_intermittent_storage_is_cleared_after_a_reboot(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    boot_id = home / "boot_id"
    boot_id.write_text("boot-1")
    monkeypatch.setattr(storage, "BOOT_ID_FILE", boot_id)
    with local_intermittent_storage("leds") as store:
        store["A"] = 50.0
    with local_intermittent_storage("leds") as store:
        assert store["A"] == 50.0
    boot_id.write_text("boot-2")
    storage.forget_connections()  # as a new process after the reboot would
    with local_intermittent_storage("leds") as store:
        assert "A" not in store


def test_a_thread_done_with_storage_closes_only_what_no_open_store_uses(home: Path) -> None:
    # a job's main thread only waits once the job is built: it gives back its idle connections,
    # but a store the job keeps open (and writes to from other threads) must keep working
    import threading

    with local_intermittent_storage("leds") as store:
        store["A"] = 10.0
    with contextlib.ExitStack() as stack:
        held = stack.enter_context(local_persistent_storage("growth_rate"))
        storage.close_idle_connections_of_this_thread()
        writer = threading.Thread(target=held.__setitem__, args=("exp", 0.3))
        writer.start()
        writer.join()
        assert held["exp"] == 0.3
    with local_intermittent_storage("leds") as store:  # opened again
        assert store["A"] == 10.0


def test_many_processes_write_at_once(home: Path) -> None:
    script = (
        "import sys\nfrom pioreactor.kernel.storage import local_persistent_storage\n"
        "for i in range(50):\n"
        "    with local_persistent_storage('counts') as s: s[f'{sys.argv[1]}-{i}'] = i\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    with local_persistent_storage("counts") as store:
        assert len(store.keys()) == 200


def test_registry_refuses_a_duplicate_and_forgets_dead_processes(home: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with RunningJobs() as registry:
            registry.register(unit="u", experiment="e", job_name="stirring", job_source="user", pid=sleeper.pid)
            with pytest.raises(JobAlreadyRunningError, match="stirring is already running on u"):
                registry.register(unit="u", experiment="e", job_name="stirring", job_source="user", pid=sleeper.pid + 1)
            assert [r.job_name for r in registry.running()] == ["stirring"]
    finally:
        sleeper.kill()
        sleeper.wait()
    with RunningJobs() as registry:
        assert registry.running() == []  # its pid is gone: the entry is stale
        registry.register(unit="u", experiment="e", job_name="stirring", job_source="user", pid=sleeper.pid + 2)
