"""The ``pio`` side of the fork server: hand the command to the unit's server, then stand in for
the process that runs it.

Standard library only, and little of it: this runs at the start of every ``pio`` command, so
when no server listens it must cost next to nothing (one failed ``connect``). With a server,
this process passes its argv, environment, working folder, umask and its stdin, stdout and
stderr (the descriptors themselves) to the server, which forks a process that runs the command
on them. This process then forwards the stop signals it gets (Ctrl-C, ``kill``) to that process
and exits as it exits: same exit code, or same signal. The protocol is documented in
:mod:`pioreactor.kernel.fork_server`.
"""

from __future__ import annotations

import array
import json
import os
import signal
import socket
import sys

TYPE_CHECKING = False  # not `from typing import`: this module must import little (mypy knows the name)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: signals this process passes on to the process that runs the command
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
DISABLE_ENV = "PIO_NO_FORK_SERVER"
SOCKET_NAME = "fork_server.sock"
SHELL = "/bin/sh"

# What a `pio run` process becomes once its job has started: a POSIX shell (a few hundred kB
# instead of the ~5 MB of a Python interpreter) that forwards stop signals to the job ($1) and
# exits as the job did, from the server's `exit STATUS CODE` line on descriptor 3. A trapped
# signal interrupts `read`; EOF means the server went away: then it waits for the job itself.
WAITER = """
for sig in INT TERM HUP QUIT USR1 USR2; do
  trap "interrupted=1; kill -$sig $1 2>/dev/null" "$sig"
done
while :; do
  interrupted=0
  if read -r word status code <&3; then
    [ "$word" = exit ] || exit 1
    if [ "$code" -lt 0 ]; then
      trap - "$((-code))"
      kill "-$((-code))" $$
    fi
    exit "$code"
  fi
  [ "$interrupted" = 1 ] && continue
  while kill -0 "$1" 2>/dev/null; do sleep 1; done
  echo "pio: the fork server stopped while the job ran; its exit code is unknown." >&2
  exit 1
done
"""


def socket_path() -> str:
    """``$PIO_HOME/run/fork_server.sock`` (the same PIO_HOME rule as ``kernel.paths``)."""
    home = os.environ.get("PIO_HOME") or os.path.join(os.path.expanduser("~"), ".pioreactor")
    return os.path.join(os.path.expanduser(home), "run", SOCKET_NAME)


def python_identity() -> list[str]:
    """The interpreter and environment (``python`` and ``python3`` of a virtualenv are the same)."""
    return [os.path.realpath(sys.executable), sys.prefix, sys.version]


def _version() -> str:
    from pioreactor.kernel.version import __version__

    return __version__


def comparable_sys_path() -> list[str]:
    """sys.path without the script's own folder (which differs between ``pio`` and the server)."""
    return list(sys.path if sys.flags.safe_path else sys.path[1:])


def request(sock: socket.socket, message: dict[str, object], fds: list[int] | None = None) -> None:
    """One length-prefixed JSON message, with file descriptors attached (SCM_RIGHTS)."""
    data = json.dumps(message).encode()
    data = len(data).to_bytes(4, "big") + data
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


def with_short_path(path: str, action: Callable[[str], None]) -> None:
    """``action(path)``; a socket path longer than the ~107 bytes AF_UNIX allows is reached
    through its folder's descriptor (``/proc/self/fd/N/NAME``)."""
    if len(os.fsencode(path)) < 100:
        action(path)
        return
    folder = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        action(f"/proc/self/fd/{folder}/{os.path.basename(path)}")
    finally:
        os.close(folder)


def connect(timeout: float | None = None) -> socket.socket | None:
    """A connection to this unit's fork server, or None if none listens."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        sock.settimeout(timeout)
        with_short_path(socket_path(), sock.connect)
    except OSError:
        sock.close()
        return None
    return sock


def _stdio() -> list[int]:
    """Our descriptors 0, 1 and 2 (/dev/null in place of a closed one)."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Forwarder:
    """Passes stop signals to the command's process; remembers those that come before its pid."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        self.previous = {sig: signal.signal(sig, self.handle) for sig in FORWARDED}

    def handle(self, signum: int, frame: object) -> None:
        if self.pid is None:
            self.pending.append(signum)
            return
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def started(self, pid: int) -> None:
        self.pid = pid
        for signum in self.pending:
            self.handle(signum, None)
        self.pending.clear()

    def restore(self) -> None:
        """Back to running the command here: our own handlers, and the signals that came meanwhile."""
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        for signum in self.pending:
            os.kill(os.getpid(), signum)


def _lines(sock: socket.socket) -> Iterator[str]:
    buffer = b""
    while True:
        while b"\n" not in buffer:
            chunk = sock.recv(4096)
            if not chunk:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        yield line.decode()


def run_through_server(argv: list[str]) -> int | None:
    """Run ``pio ARGV`` in the unit's fork server; its exit code, or None to run it here (no
    server, or one that cannot run this command: another install, Python or sys.path)."""
    if os.environ.get(DISABLE_ENV) == "1":
        return None
    sock = connect()
    if sock is None:
        return None
    forwarder = _Forwarder()
    try:
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = "/"
        message = {
            "op": "run",
            "argv": [sys.argv[0], *argv],
            "env": dict(os.environ),
            "cwd": cwd,
            "umask": _umask(),
            "python": python_identity(),
            "version": _version(),
            "path": comparable_sys_path(),
        }
        request(sock, message, _stdio())
        lines = _lines(sock)
        first = next(lines, "")
        if not first.startswith("pid "):
            forwarder.restore()
            return None  # refused (or the server went away): run it here
        pid = int(first.split()[1])
        forwarder.started(pid)
        if argv[:1] == ["run"] and os.path.exists(SHELL):
            _become_waiter(sock, pid)
        last = next(lines, None)
    except OSError:
        if forwarder.pid is None:
            forwarder.restore()
            return None
        last = None
    finally:
        sock.close()
    if last is None or not last.startswith("exit "):
        return _outlive(forwarder.pid)
    return _exit_like(int(last.split()[1]))


def _become_waiter(sock: socket.socket, pid: int) -> None:
    """Replace this process by the small shell WAITER (same pid, so `kill` and the caller's
    wait still reach it); ``pio run ...`` stays in its command line for ``pgrep -f``."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(sock.fileno(), 3)
    os.set_inheritable(3, True)
    env = dict(os.environ, PIO_WAITER=WAITER)  # `ps` shows a short line, not the script
    os.execve(SHELL, ["sh", "-c", 'eval "$PIO_WAITER"', "pio", str(pid), *sys.argv], env)


def _outlive(pid: int | None) -> int:
    """The server went away while the command ran: wait for its process, exit code unknown."""
    if pid is not None:
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            fd = -1
        if fd >= 0:
            import select

            select.select([fd], [], [])
            os.close(fd)
    print("pio: the fork server stopped while the command ran; its exit code is unknown.", file=sys.stderr)
    return 1


def _exit_like(status: int) -> int:
    """Exit as the command's process did: its code, or the signal that ended it."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code
