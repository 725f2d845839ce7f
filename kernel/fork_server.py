"""The unit's fork server: one small long-running process that has the kernel, click, paho,
msgspec and the core plugins' modules imported, and forks a process for each ``pio`` command.

Every job still runs in its own process (a crash or a stop ends that job only), but that process
starts with everything imported and shares those pages with the server and its siblings (copy on
write), so a job is ready sooner and several jobs use less memory. The ``pio`` process a user
started stays in front: it hands the server its argv, environment, working folder, umask and
stdin/stdout/stderr, forwards the signals it gets, and exits with the command's exit code
(``kernel.fork_client``). Without a server, ``pio`` runs the command itself, as before.

Protocol, on the Unix socket ``$PIO_HOME/run/fork_server.sock`` (mode 0600): the client sends one
message, a 4-byte big-endian length and that much JSON, ``{"op": "run", ...}`` with its
descriptors 0-2 attached (SCM_RIGHTS), ``{"op": "status"}`` or ``{"op": "stop"}``. To ``run`` the
server answers ``pid N`` and, when that process ends, ``exit STATUS CODE`` (the raw wait status, and
the exit code or minus the signal), one line each; or ``refuse REASON`` when the client's Python, install or sys.path differ from its own
(the client then runs the command itself). If the client goes away first, the command's process
gets SIGTERM, as a foreground job would when its terminal closes. On SIGTERM or ``stop`` the
server stops accepting and exits once the commands it started have ended.

Run it as ``pio fork-server start`` (docs/fork-server.md).
"""

from __future__ import annotations

import array
import contextlib
import gc
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from pioreactor.kernel.fork_client import comparable_sys_path, python_identity, socket_path, with_short_path
from pioreactor.kernel.heap_holes import fill_heap_holes
from pioreactor.kernel.version import __version__

#: what every command needs: imported once here, shared by every forked process
PRELOAD = (
    "pioreactor.kernel.cli.root",
    "pioreactor.kernel.cli.run",
    "pioreactor.kernel.cli.jobs",
    "pioreactor.kernel.cli.job_command",
    "pioreactor.kernel.runner",
    "pioreactor.kernel.job",
    "pioreactor.kernel.plugins",
    "pioreactor.kernel.discovery",
    "pioreactor.kernel.bus",
    "pioreactor.kernel.job_registry",
    "pioreactor.kernel.config",
    "pioreactor.kernel.config_defaults",
    "pioreactor.kernel.hardware",
    "pioreactor.sdk",
    "setproctitle",
    "encodings.idna",  # connecting to a host by name (the broker's "localhost") encodes it
    "difflib",  # click suggests a near option name for an unknown one: every automation's start
)
MAX_MESSAGE = 4 * 1024 * 1024


@dataclass
class Command:
    """What a forked process runs: a client's ``run`` request."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    umask: int
    fds: list[int]
    plugins_key: Any = None  # what the server's plugin host was built from (see plugins_key())
    server_environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    pid: int
    conn: socket.socket
    pidfd: int
    client_gone: bool = False


@dataclass
class Server:
    listener: socket.socket
    path: str
    sys_path: list[str]
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    children: dict[int, Child] = field(default_factory=dict)
    stopping: bool = False
    started: float = field(default_factory=time.time)
    served: int = 0
    preloaded: list[str] = field(default_factory=list)
    plugins_key: Any = None
    # what a request is checked against, computed once: each check that allocates writes to
    # pages the server shares with the jobs it forked, which then copy them
    identity: list[str] = field(default_factory=python_identity)
    plugin_paths: list[tuple[str, float | None]] = field(default_factory=list)  # see plugins_changed
    environment: dict[str, str] = field(default_factory=dict)  # its plugin_environment()


def preload(modules: list[str]) -> list[str]:
    """Import the kernel's modules and the core plugins' (those of the plugin index, if it is
    current); a module that fails to import is left to the command that needs it."""
    done = []
    for name in modules:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception as err:  # the forked command imports it again and reports the error
            print(f"pio fork-server: not preloading {name}: {type(err).__name__}: {err}", file=sys.stderr)
    return done


def core_plugin_modules() -> list[str]:
    """The modules of the core plugins and of their jobs, from the plugin index; nothing when
    the index is missing or stale (the first ``pio`` command writes it)."""
    from pioreactor.kernel.discovery import CORE_PREFIX, load_index

    index = load_index()
    if index is None:
        return []
    targets = [value for _, value in index.get("entry_points", [])]
    targets += [target for _, target, *_ in index.get("jobs", [])]
    modules = {target.split(":")[0] for target in targets if target.startswith(CORE_PREFIX)}
    return sorted(modules)


def plugins_key() -> Any:
    """What decides which plugins a process loads: PIO_HOME and the plugin index's fingerprint
    (installed packages, plugin files, the PIO_*_PLUGINS switches). None without a current index."""
    from pioreactor.kernel import discovery, paths

    index = discovery.load_index()
    return None if index is None else [str(paths.pio_home()), index["fingerprint"]]


def plugins_changed(server: Server) -> bool:
    """Whether a plugin was installed, removed or edited since the server built its plugins:
    the times of the files and folders that the plugin index's fingerprint holds."""
    from pioreactor.kernel import discovery

    return server.plugins_key is not None and not discovery.paths_unchanged(server.plugin_paths)


def prebuild_plugin_host() -> Any:
    """Import and register every plugin here, once, so each forked job finds them registered;
    the key they were built under, or None (no current index: each command does it itself)."""
    from pioreactor.kernel.plugins import get_plugin_host, reset_plugin_host

    key = plugins_key()
    if key is None:
        return None
    try:
        host = get_plugin_host()
        warm_config(host.config_defaults())  # every job's config starts from them
    except Exception as err:  # a broken install: each command reports it
        print(f"pio fork-server: plugins not preloaded: {type(err).__name__}: {err}", file=sys.stderr)
        reset_plugin_host()
        return None
    for module in core_target_modules(host):
        with contextlib.suppress(Exception):  # e.g. the Raspberry Pi backend off a Pi: not needed here
            importlib.import_module(module)
    try:
        warm_up(host)
    except Exception as err:  # it only saves memory: serve all the same
        print(f"pio fork-server: not warmed up: {type(err).__name__}: {err}", file=sys.stderr)
    return key


def warm_up(host: Any) -> None:
    """Run once here what every job runs at its start, so that forked jobs find it done (see
    docs/fork-server.md: each page a job writes to is copied for it)."""
    from pioreactor.kernel.cli.job_command import prebuild_commands
    from pioreactor.kernel.registries.targets import AutomationRegistry, JobDefinitions

    warm_registry()
    specs = list(host.registry(JobDefinitions).entries.values())
    prebuild_commands(specs)
    core = {info.name for info in host.plugins if info.source == "core"}  # no third-party code runs
    automations = [spec for spec in host.registry(AutomationRegistry).entries.values() if spec.plugin in core]
    warm_command_line(
        [spec.name for spec in specs if spec.plugin in core], [spec.load() for spec in automations]
    )


def warm_registry() -> None:
    """Claim and release a job in a throw-away registry, as each ``pio run`` does first, so
    that the code it runs is specialised here once (the unit's own registry is not touched)."""
    import tempfile
    from pathlib import Path

    from pioreactor.kernel.job_registry import RunningJobs

    with contextlib.suppress(Exception), tempfile.TemporaryDirectory() as folder:
        registry = RunningJobs(Path(folder) / "jobs.sqlite")
        try:
            claim = registry.claim(unit="warm", experiment="warm", job_name="warm", job_source="user", pid=os.getpid())
            if claim is not None:
                registry.release_claim(claim, ran=False)
        finally:
            registry.close()


def warm_config(declared: Any) -> None:
    """Read the unit's config files over ``declared`` and check every key, as each job does at
    its start, keeping nothing (each job reads the files again): the code it runs is then
    specialised here once."""
    from pioreactor.kernel.config import load_config

    with contextlib.suppress(Exception):  # a bad file: each job reports it
        load_config(declared=declared).validate()


def warm_command_line(job_names: list[str], automation_classes: list[type]) -> None:
    """Parse ``pio run NAME`` for each job, and the options of each automation, as a command
    will, running nothing (no callback, no error: resilient parsing). Python fills caches on
    first use (click's abstract-class checks, the interpreter's specialised bytecode): filled
    here once, each forked job does not write them into its own copy of the pages (about 0.6 MB
    a job)."""
    import click
    from pioreactor.kernel.cli.job_command import options_for
    from pioreactor.kernel.cli.root import pio

    for name in job_names:
        try:
            with pio.make_context("pio", ["run", name], resilient_parsing=True) as ctx:
                run_group = pio.get_command(ctx, "run")
                if not isinstance(run_group, click.Group):
                    return
                run_ctx = run_group.make_context("run", [name], parent=ctx, resilient_parsing=True)
                command = run_group.get_command(run_ctx, name)
                if command is not None:
                    command.make_context(name, [], parent=run_ctx, resilient_parsing=True)
        except Exception:  # noqa: S112 - the job's own command reports what is wrong
            continue
    for automation_class in automation_classes:
        with contextlib.suppress(Exception):
            options = list(options_for(automation_class))
            click.Command("automation", params=options).make_context("automation", [], resilient_parsing=True)


def core_target_modules(host: Any) -> list[str]:
    """The modules that core plugins' jobs, automations and hardware backends live in."""
    from pioreactor.kernel.registries.targets import (
        AutomationRegistry,
        HardwareBackendRegistry,
        JobDefinitions,
    )

    core = {info.name for info in host.plugins if info.source == "core"}
    modules = set()
    for registry_class in (JobDefinitions, AutomationRegistry, HardwareBackendRegistry):
        for spec in host.registry(registry_class).entries.values():
            if spec.plugin in core and isinstance(spec.target, str):
                modules.add(spec.target.split(":")[0])
    return sorted(modules)


def _bind(path: str) -> socket.socket:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with_short_path(path, probe.connect)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by a server that did not stop cleanly
    else:
        raise SystemExit(f"pio fork-server: a fork server is already running on {path}")
    finally:
        probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        with_short_path(path, listener.bind)
    except OSError as err:
        raise SystemExit(f"pio fork-server: cannot listen on {path}: {err}") from None
    finally:
        os.umask(old_mask)
    listener.listen(64)
    return listener


def read_message(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One client message and the descriptors that came with it."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if len(data) < 4:
        raise ValueError("short message")
    length = int.from_bytes(data[:4], "big")
    if length > MAX_MESSAGE:
        raise ValueError(f"message of {length} bytes")
    body = data[4:]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ValueError("truncated message")
        body += chunk
    return json.loads(body), list(fds)


def serve(server: Server) -> Command | None:
    """Accept and fork until stopped; returns None in the server when it stops, and the command
    to run in each forked process."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)  # the wake-up fd tells the loop
    server.selector.register(server.listener, selectors.EVENT_READ, "listen")
    server.selector.register(wake_r, selectors.EVENT_READ, "signal")
    while not (server.stopping and not server.children):
        for key, _ in server.selector.select():
            if key.data == "listen":
                command = _accept(server, wake_r, wake_w)
                if command is not None:
                    return command  # in the forked process
            elif key.data == "signal":
                os.read(wake_r, 512)
                _stop_accepting(server)
            elif key.data[0] == "exit":
                _reap(server, key.data[1])
            elif key.data[0] == "client":
                _client_readable(server, key.data[1])
    return None


def _stop_accepting(server: Server) -> None:
    if server.stopping:
        return
    server.stopping = True
    server.selector.unregister(server.listener)
    server.listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(server.path)


def _accept(server: Server, wake_r: int, wake_w: int) -> Command | None:
    try:
        conn, _ = server.listener.accept()
    except OSError:
        return None
    fds: list[int] = []
    try:
        conn.settimeout(2.0)  # a client sends its message at once
        message, fds = read_message(conn)
        op = message.get("op")
        if op == "status":
            _send(conn, json.dumps(_status(server)) + "\n")
        elif op == "stop":
            _send(conn, "stopping\n")
            _stop_accepting(server)
        elif op == "run":
            reason = _refusal(server, message, fds)
            if reason:
                _send(conn, f"refuse {reason}\n")
            else:
                return _fork(server, conn, message, fds, wake_r, wake_w)
        else:
            _send(conn, f"refuse unknown op {op!r}\n")
    except (OSError, ValueError) as err:
        print(f"pio fork-server: bad request: {type(err).__name__}: {err}", file=sys.stderr)
    for fd in fds:
        os.close(fd)
    conn.close()
    return None


def _refusal(server: Server, message: dict[str, Any], fds: list[int]) -> str:
    if len(fds) != 3:
        return "stdin, stdout and stderr did not come with the request"
    if message.get("python") != server.identity:
        return f"another Python ({message.get('python')}; this server runs {server.identity})"
    if message.get("version") != __version__:  # pioreactor was upgraded since the server started
        return f"pioreactor {message.get('version')} here, {__version__} in the fork server: restart it"
    if message.get("path") != server.sys_path:
        return "another sys.path (PYTHONPATH or the virtualenv differ)"
    if plugins_changed(server):
        # a plugin was installed, removed or edited: its old modules are imported here
        return "plugins changed since the fork server started; restart it (pio fork-server stop; pio fork-server start)"
    return ""


def _send(conn: socket.socket, text: str) -> None:
    conn.sendall(text.encode())


def _fork(
    server: Server, conn: socket.socket, message: dict[str, Any], fds: list[int], wake_r: int, wake_w: int
) -> Command | None:
    gc.freeze()  # the objects so far stay out of the children's collections: their pages stay shared
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        server.selector.close()
        for fd in (wake_r, wake_w, *(child.pidfd for child in server.children.values())):
            os.close(fd)
        for child in server.children.values():
            child.conn.close()
        if not server.stopping:
            server.listener.close()
        conn.close()
        gc.enable()
        return Command(
            message["argv"], message["env"], message["cwd"], int(message["umask"]), fds,
            server.plugins_key, server.environment,
        )
    for fd in fds:
        os.close(fd)
    server.served += 1
    try:
        _send(conn, f"pid {pid}\n")
    except OSError:
        pass  # the client is gone already: noticed below
    pidfd = os.pidfd_open(pid)
    child = Child(pid, conn, pidfd)
    server.children[pid] = child
    server.selector.register(pidfd, selectors.EVENT_READ, ("exit", pid))
    conn.setblocking(False)
    server.selector.register(conn, selectors.EVENT_READ, ("client", pid))
    return None


def _reap(server: Server, pid: int) -> None:
    child = server.children.pop(pid)
    _, status = os.waitpid(pid, 0)
    server.selector.unregister(child.pidfd)
    os.close(child.pidfd)
    if not child.client_gone:
        server.selector.unregister(child.conn)
        with contextlib.suppress(OSError):
            child.conn.setblocking(True)
            _send(child.conn, f"exit {status} {os.waitstatus_to_exitcode(status)}\n")
    child.conn.close()


def _client_readable(server: Server, pid: int) -> None:
    child = server.children[pid]
    try:
        data = child.conn.recv(64)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if data:
        return  # clients send nothing after their request
    child.client_gone = True  # e.g. SIGKILL: the command's process must not run on unattended
    server.selector.unregister(child.conn)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def _status(server: Server) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "version": __version__,
        "socket": server.path,
        "since": server.started,
        "served": server.served,
        "running": sorted(server.children),
        "preloaded": len(server.preloaded),
        "stopping": server.stopping,
        "plugins_preloaded": server.plugins_key is not None,
        "plugins_changed": plugins_changed(server),
    }


def become_command(command: Command) -> None:
    """In the forked process: take the client's session-less place and run ``pio ARGV``."""
    os.setsid()  # its own session: the server's terminal (if any) is not the command's
    for target, fd in enumerate(command.fds):
        if fd != target:
            os.dup2(fd, target)
    for fd in set(command.fds) - {0, 1, 2}:
        os.close(fd)
    os.environ.clear()
    os.environ.update(command.env)
    try:
        os.chdir(command.cwd)
    except OSError:
        os.chdir("/")
    os.umask(command.umask)
    sys.argv = list(command.argv)
    set_title(" ".join(["pio", *command.argv[1:]]))  # `ps` and `pgrep -f` show the command, not the server
    _rebind_stdio()
    _keep_plugins_if_same(command.plugins_key, command.server_environment)
    from pioreactor.kernel.cli.root import main

    main()


def set_title(title: str) -> None:
    try:
        from setproctitle import setproctitle
    except ImportError:  # an install made before it became a dependency: `ps` shows the server
        return
    setproctitle(title)


def plugin_environment() -> dict[str, str]:
    """The environment variables that decide which plugins a process loads."""
    from pioreactor.kernel.discovery import ENV_SWITCHES

    names = (*ENV_SWITCHES, "PIO_HOME", "PYTHONPATH", "PIO_NO_PLUGIN_INDEX")
    return {name: os.environ.get(name, "") for name in names}


def _keep_plugins_if_same(key: Any, server_environment: dict[str, str]) -> None:
    """The server's registered plugins serve this command if it would load the same ones: the
    server checked just before forking that they are current for its environment."""
    from pioreactor.kernel import discovery
    from pioreactor.kernel.plugins import reset_plugin_host

    discovery.forget_reported()
    if key is None or (plugin_environment() != server_environment and plugins_key() != key):
        reset_plugin_host()


def _rebind_stdio() -> None:
    """New sys.stdin/stdout/stderr over descriptors 0-2, buffered as Python would for them."""
    for name, fd in (("stdin", 0), ("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or "strict"
        if fd == 0:
            raw: Any = open(fd, "rb", closefd=False)
            stream = io.TextIOWrapper(raw, encoding=encoding, errors=errors)
        else:
            with contextlib.suppress(Exception):
                old.flush()
            binary = open(fd, "wb", closefd=False)
            line_buffering = fd == 2 or os.isatty(fd)
            stream = io.TextIOWrapper(binary, encoding=encoding, errors=errors, line_buffering=line_buffering)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def main() -> None:
    """``python -m pioreactor.kernel.fork_server``: serve this PIO_HOME until SIGTERM or stop."""
    gc.disable()  # no collections while preloading: fewer holes in the pages the children share
    sys_path = comparable_sys_path()
    path = socket_path()
    listener = _bind(path)
    server = Server(listener, path, sys_path)
    server.preloaded = preload(list(PRELOAD) + core_plugin_modules())
    server.plugins_key = prebuild_plugin_host()
    if server.plugins_key is not None:
        from pioreactor.kernel import discovery

        server.plugin_paths = discovery.stamped_paths(server.plugins_key[1])
    server.environment = plugin_environment()
    # no gc.collect(): freeing the garbage now would leave holes in pages the children share,
    # and their first allocations would fill (so copy) them
    set_title("pio fork-server")
    print(
        f"pio fork-server: pid {os.getpid()}, {len(server.preloaded)} modules preloaded, listening on {path}",
        file=sys.stderr,
        flush=True,
    )
    fill_heap_holes()  # the last step before serving: see kernel.heap_holes
    try:
        command = serve(server)
    finally:
        if os.getpid() == _server_pid and not server.stopping:
            _stop_accepting(server)
    if command is None:
        print("pio fork-server: stopped", file=sys.stderr, flush=True)
        return
    become_command(command)


_server_pid = os.getpid()

if __name__ == "__main__":
    main()
