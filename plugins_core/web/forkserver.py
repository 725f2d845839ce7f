"""Job starts from a pre-imported process (upstream's sluggish starts, #459).

Most of a ``pio run JOB`` start is Python importing the kernel and the job's plugin. The web
server keeps one helper process (``python -m pioreactor.plugins_core.web.forkserver MODULES``)
that imports the CLI and the core plugins' job modules once, then forks a child for every start:
the child gets the job's environment, a session of its own and its output file, and runs ``pio
run ...`` from there, as a fresh ``pio`` process would (config, plugins and the bus are loaded in
the child, so a changed config.ini or a newly installed plugin is seen). Only this package's own
modules are imported ahead: a third-party plugin, which may be upgraded while the server runs, is
imported by the child itself.

The helper is single-threaded (forking is safe), reaps its children and reports their exit codes,
and exits when the web server closes its pipe. ``[web] fork_server = 0`` starts every job with a
new interpreter instead; so does any failure of the helper.

Protocol, one JSON object per line: the server sends ``{"argv", "env", "output"}``, the helper
answers ``{"pid"}`` (or ``{"error"}``) and, whenever a child ends, ``{"exited": pid, "code"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

# -- the server's side ------------------------------------------------------------------------


class ForkedJob:
    """A job the helper forked: its pid, and its exit code once the helper reported it."""

    def __init__(self, pid: int, server: ForkServer) -> None:
        self.pid = pid
        self._server = server

    def poll(self) -> int | None:
        return self._server.exit_code(self.pid)


class ForkServer:
    """The web server's handle on its helper process (started on first use)."""

    def __init__(self, modules: list[str]) -> None:
        self.modules = modules
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request (and its answer) at a time
        self._answers: list[dict[str, Any]] = []
        self._answered = threading.Condition()
        self._exits: dict[int, int] = {}

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "pioreactor.plugins_core.web.forkserver", *self.modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C of the server's terminal must not reach it
        )
        threading.Thread(target=self._read, args=(process,), name="forkserver-reader", daemon=True).start()
        return process

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            with self._answered:
                if "exited" in message:
                    self._exits[int(message["exited"])] = int(message["code"])
                else:
                    self._answers.append(message)
                self._answered.notify_all()
        with self._answered:  # the helper is gone: nobody waits for it any longer
            self._answers.append({"error": "the fork server exited"})
            self._answered.notify_all()

    def exit_code(self, pid: int) -> int | None:
        with self._answered:
            return self._exits.get(pid)

    def warm_up(self) -> None:
        """Start the helper now, so that the first job start is fast too."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()

    def spawn(self, argv: list[str], env: dict[str, str], output: str, timeout: float = 10.0) -> ForkedJob:
        """Fork ``pio ARGV`` with ``env``, its output appended to the file ``output``. Raises
        OSError when the helper cannot do it (the caller then starts a new interpreter)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            assert self._process.stdin is not None
            request = json.dumps({"argv": argv, "env": env, "output": output}).encode() + b"\n"
            with self._answered:
                self._answers.clear()
            try:
                self._process.stdin.write(request)
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError) as err:
                raise OSError(f"the fork server is gone: {err}") from None
            with self._answered:
                if not self._answered.wait_for(lambda: bool(self._answers), timeout):
                    raise OSError(f"the fork server did not answer within {timeout:g} s")
                answer = self._answers.pop(0)
        if "pid" not in answer:
            raise OSError(str(answer.get("error", answer)))
        return ForkedJob(int(answer["pid"]), self)

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._process.stdin is not None
                self._process.stdin.close()  # the helper exits on end of input
                try:
                    self._process.wait(5)
                except subprocess.TimeoutExpired:
                    self._process.kill()


# -- the helper's side ------------------------------------------------------------------------

# the pipe to the web server (the helper's own stdout goes to /dev/null: an import that prints
# must not garble the protocol)
_to_server = 1


def _send(message: dict[str, Any]) -> None:
    os.write(_to_server, json.dumps(message).encode() + b"\n")


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _send({"exited": pid, "code": code})


def _serve() -> dict[str, Any]:
    """Fork a child per request; returns only in a child, with its request."""
    import select

    pending = b""
    while True:
        _reap()
        ready, _, _ = select.select([0], [], [], 0.05)  # also the pace of exit reports
        if not ready:
            continue
        chunk = os.read(0, 1 << 16)
        if not chunk:  # the web server closed the pipe: its children live on in their sessions
            sys.exit(0)
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as err:
                _send({"error": f"fork failed: {err}"})
                continue
            if pid == 0:
                return dict(request)
            _send({"pid": pid})


def _become(request: dict[str, Any]) -> None:
    """In the child: the job's session, environment, output and argv."""
    import signal

    os.setsid()
    # a job must stop on SIGTERM however its server was started (a parent that blocked or
    # ignored signals passes that on to every process below it)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    output = os.open(request["output"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    for fd in (devnull, output, _to_server):
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["pio", *request["argv"]]


def main() -> None:
    import importlib

    global _to_server
    _to_server = os.dup(1)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)
    for name in sys.argv[1:]:
        if name.startswith("pioreactor."):  # this package only: see the module's docstring
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S112 (the child imports it again and reports the error)
                continue
    request = _serve()
    _become(request)
    import runpy

    runpy.run_module(cli_module(), run_name="__main__", alter_sys=True)


def cli_module() -> str:
    """The module that ``pio`` runs (``python -m <it>``)."""
    from pioreactor.sdk.plugins import pio_command

    command = pio_command()
    return command[command.index("-m") + 1]


if __name__ == "__main__":
    main()
