"""The web server's task queue: Huey on SQLite, consumed by threads inside the web server.

Why in-process threads rather than upstream's separate ``huey_consumer`` process: the tasks
spawn processes, publish on MQTT and call other units over HTTP, so they wait on I/O and
threads suffice; one process is one thing less to supervise and about 25 MB less memory on a
Pi. The queue and the results live in ``$PIO_HOME/storage/web_tasks.sqlite``, so a task queued
before a restart of the web server still runs, and its result can still be read, afterwards.

A worker waiting on an empty queue is woken by the next submission of this process (no polling
delay on a job start); tasks queued by another process are picked up within ``POLL_SECONDS``.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from huey import Huey
from huey.consumer import Consumer
from huey.storage import SqliteStorage
from pioreactor.plugins_core.web.api import ApiError, new_task_id

POLL_SECONDS = 0.5
KEEP_RESULTS_SECONDS = 7 * 24 * 3600  # a week: longer than any UI polls, short enough to stay small
SUBMITTED = "submitted:"
RUNNING = "running:"
log = logging.getLogger("pioreactor_web.tasks")


class WakingSqliteStorage(SqliteStorage):
    """SqliteStorage whose ``dequeue`` waits for a local ``enqueue`` instead of sleeping."""

    blocking = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wakeups = threading.Semaphore(0)

    def enqueue(self, data: bytes, priority: Any = None) -> None:
        super().enqueue(data, priority)
        self._wakeups.release()

    def dequeue(self) -> bytes | None:
        data = super().dequeue()
        if data is None:
            self._wakeups.acquire(timeout=POLL_SECONDS)
            data = super().dequeue()
        return data


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def run_target(
    huey: Huey, target: str, args: tuple[Any, ...], kwargs: dict[str, Any], task: Any = None
) -> dict[str, Any]:
    """Run one task; the outcome (never an exception) is the stored result. While it runs, a
    marker says so: a server stopped mid-task reports it interrupted when it starts again."""
    started = time.time()
    marker = RUNNING + task.id if task is not None else None
    if marker is not None:
        huey.put(marker, started)
    try:
        result = _load(target)(*args, **kwargs)
    except ApiError as err:
        return {"status": "failed", "error": err.error, "cause": err.cause, "remediation": err.remediation}
    except Exception as err:
        log.warning("task %s failed: %s", target, "".join(traceback.format_exception(err)))
        return {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    finally:
        if marker is not None:
            huey.delete(marker)
    return {"status": "succeeded", "result": result, "seconds": round(time.time() - started, 3)}


class _QuietConsumer(Consumer):
    """A consumer that leaves signal handling to the web server's job."""

    def _set_signal_handlers(self) -> None:
        pass


class TaskQueue:
    """Submit tasks, read their results, and run the consumer threads."""

    def __init__(self, path: Path, workers: int = 4) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.huey = Huey("pioreactor-web", storage_class=WakingSqliteStorage, filename=str(path), results=True)
        huey = self.huey

        def run(target: str, args: tuple[Any, ...], kwargs: dict[str, Any], task: Any = None) -> dict[str, Any]:
            return run_target(huey, target, args, kwargs, task)

        self._run = huey.task(name="run_target", context=True)(run)
        self.workers = workers
        self._consumer: Consumer | None = None

    def submit(self, target: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> str:
        task_id = new_task_id()
        self.huey.put(SUBMITTED + task_id, time.time())
        task = self._run.s(target, tuple(args), dict(kwargs or {}))
        task.id = task_id
        self.huey.enqueue(task)
        return task_id

    def result(self, task_id: str) -> dict[str, Any] | None:
        """The outcome of a finished task, None while it waits or runs; KeyError if unknown."""
        outcome = self.huey.get(task_id, peek=True)
        if outcome is not None:
            return dict(outcome)
        if self.huey.get(SUBMITTED + task_id, peek=True) is None:
            raise KeyError(task_id)
        return None

    def fail_interrupted(self) -> int:
        """Tasks that were running when the server last stopped: record them as failed."""
        interrupted = [key for key in self.huey.storage.result_items() if str(key).startswith(RUNNING)]
        for key in interrupted:
            task_id = str(key)[len(RUNNING) :]
            self.huey.put(
                task_id,
                {
                    "status": "failed",
                    "error": "the web server stopped while this task ran",
                    "remediation": "Check the outcome (e.g. whether the job runs) and try again.",
                },
            )
            self.huey.delete(key)
        return len(interrupted)

    def forget_old(self, now: float | None = None) -> int:
        """Drop the records of tasks submitted more than ``KEEP_RESULTS_SECONDS`` ago."""
        cutoff = (now or time.time()) - KEEP_RESULTS_SECONDS
        old = []
        for key, raw in self.huey.storage.result_items().items():
            if str(key).startswith(SUBMITTED):
                submitted_at = self.huey.serializer.deserialize(raw)
                if isinstance(submitted_at, int | float) and submitted_at < cutoff:
                    old.append(str(key)[len(SUBMITTED) :])
        for task_id in old:
            self.huey.delete(SUBMITTED + task_id)
            self.huey.delete(task_id)
        return len(old)

    def start(self) -> None:
        self.forget_old()
        self.fail_interrupted()
        self._consumer = _QuietConsumer(self.huey, workers=self.workers, worker_type="thread", periodic=False)
        self._consumer.start()

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=False)
            self._consumer = None
