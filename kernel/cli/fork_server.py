"""``pio fork-server start|stop|status``: the unit's warm fork server (``kernel.fork_server``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

import click
from pioreactor.kernel import paths
from pioreactor.kernel.fork_client import connect, request, socket_path

START_TIMEOUT_SECONDS = 20.0


def server_command() -> list[str]:
    # -P: the folder it is started from is not on sys.path (no module there shadows ours)
    return [sys.executable, "-P", "-m", "pioreactor.kernel.fork_server"]


def ask(op: str, timeout: float = 5.0) -> str | None:
    """The server's one-line answer to ``op``, or None if no server listens."""
    sock = connect(timeout)
    if sock is None:
        return None
    try:
        request(sock, {"op": op})
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer.decode().strip()
    except OSError:
        return None
    finally:
        sock.close()


def server_status() -> dict[str, Any] | None:
    answer = ask("status")
    if not answer:
        return None
    status: dict[str, Any] = json.loads(answer)
    return status


def _write_plugin_index() -> None:
    """The server preloads the core plugins the plugin index lists: make sure it is current."""
    from pioreactor.kernel.discovery import job_listing

    job_listing()


def server_environment() -> dict[str, str]:
    """The server's environment: this one, with glibc's malloc held to one arena (its children
    inherit it): a job's threads each get an arena of their own otherwise, which costs every
    job about 1 MB (PSS) and buys nothing under the GIL; in one arena, what one thread frees
    another reuses. A value already set is kept."""
    env = dict(os.environ)
    env.setdefault("MALLOC_ARENA_MAX", "1")
    return env


@click.group("fork-server")
def fork_server() -> None:
    """The unit's warm fork server: jobs start faster and share memory.

    While it runs, every `pio` command on this unit (same PIO_HOME) runs in a process forked
    from it, with the kernel and the core plugins already imported. `pio` behaves as before:
    output, Ctrl-C, exit codes, `pio kill`. Without it, `pio` runs commands itself.
    """


@fork_server.command("start")
@click.option("--background", "-b", is_flag=True, help="Run detached; output goes to $PIO_HOME/logs/fork_server.log.")
def start(background: bool) -> None:
    """Start the fork server (in the foreground unless --background; stop it with Ctrl-C or `pio fork-server stop`)."""
    status = server_status()
    if status is not None:
        raise click.ClickException(f"a fork server is already running (pid {status['pid']}) on {socket_path()}")
    _write_plugin_index()
    if not background:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, server_command(), server_environment())
    log_path = paths.default_log_file().with_name("fork_server.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            server_command(), stdin=devnull, stdout=log, stderr=log, start_new_session=True, cwd="/",
            env=server_environment(),
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = server_status()
        if status is not None:
            click.echo(f"fork server running (pid {status['pid']}), log: {log_path}")
            return
        if process.poll() is not None:
            raise click.ClickException(f"the fork server exited at start ({process.returncode}); see {log_path}")
        time.sleep(0.05)  # polling a socket that is being set up: there is no event to wait on
    raise click.ClickException(f"the fork server did not answer within {START_TIMEOUT_SECONDS:g} s; see {log_path}")


@fork_server.command("stop")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the server has exited.")
def stop(wait: bool) -> None:
    """Stop accepting commands; the server exits once the commands it runs have ended."""
    status = server_status()
    if status is None or ask("stop") is None:
        raise click.ClickException(f"no fork server is running on {socket_path()}")
    running = [pid for pid in status["running"] if pid != os.getpid()]  # not this very command
    if running:
        click.echo(f"fork server (pid {status['pid']}) stops once its {len(running)} running command(s) end.")
        return
    if wait and os.getppid() != status["pid"]:  # a command it runs cannot wait for it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(int(status["pid"])):
            time.sleep(0.02)
    click.echo(f"fork server (pid {status['pid']}) stopped.")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@fork_server.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(as_json: bool) -> None:
    """Whether the fork server runs (exit 0) or not (exit 1), its pid and the commands it runs."""
    status = server_status()
    if status is None:
        if as_json:
            click.echo(json.dumps({"running": False}))
        else:
            click.echo(f"no fork server is running on {socket_path()} (`pio fork-server start`)")
        sys.exit(1)
    running = [pid for pid in status["running"] if pid != os.getpid()]  # not this very command
    if as_json:
        click.echo(json.dumps(status | {"running": running}))
        return
    since = dt.datetime.fromtimestamp(status["since"], dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    click.echo(
        f"fork server running: pid {status['pid']}, version {status['version']}, since {since}, "
        f"{status['served']} command(s) served, {len(running)} running now"
        + (", stopping" if status["stopping"] else "")
    )
    if status.get("plugins_changed"):
        click.echo(
            "plugins changed since it started: commands run without it until it is restarted "
            "(pio fork-server stop; pio fork-server start)"
        )
