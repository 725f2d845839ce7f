"""The web server's task queue on its own (Huey on SQLite, consumer threads): fast, no server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pioreactor.plugins_core.web.tasks import KEEP_RESULTS_SECONDS, RUNNING, TaskQueue


def test_records_outlive_the_queue_object_and_old_ones_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite"
    queue = TaskQueue(path, workers=1)
    waiting = queue.submit("operator:add", (1, 2))
    assert queue.result(waiting) is None  # no consumer yet: pending
    with pytest.raises(KeyError):
        queue.result("unknown")

    again = TaskQueue(path, workers=1)  # as after a restart of the server
    again.start()
    try:
        deadline = time.monotonic() + 10
        while again.result(waiting) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert again.result(waiting) == {"status": "succeeded", "result": 3, "seconds": pytest.approx(0, abs=1)}
        failing = again.submit("operator:add", (1, "x"))
        while again.result(failing) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert again.result(failing)["error"].startswith("TypeError")  # type: ignore[index]
    finally:
        again.stop()

    assert again.forget_old(now=time.time() + KEEP_RESULTS_SECONDS + 60) == 2
    with pytest.raises(KeyError):
        again.result(waiting)


def test_a_task_running_when_the_server_stopped_is_reported_failed(tmp_path: Path) -> None:
    queue = TaskQueue(tmp_path / "tasks.sqlite")
    task_id = queue.submit("operator:add", (1, 2))
    queue.huey.dequeue()  # taken by a worker...
    queue.huey.put(RUNNING + task_id, time.time())  # ...which was running it when the server died
    assert queue.fail_interrupted() == 1
    assert queue.result(task_id)["status"] == "failed"  # type: ignore[index]
