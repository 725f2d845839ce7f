"""``pio run web_server``: the web API of this unit, served by waitress.

Why waitress: pure Python (nothing to compile on a Pi), a production server with a thread pool
(the UI fires a dozen calls in parallel when a page opens), small (about 2 MB of memory), and
it runs inside this job's process, so the job's lifecycle (``pio kill``, ``$state``) governs the
server. Gunicorn would fork workers, each a copy of the app and of the task consumer.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pioreactor.sdk import (
    UNIVERSAL_EXPERIMENT,
    BackgroundJob,
    PioreactorError,
    am_i_leader,
    get_config,
    local_persistent_storage,
)
from pioreactor.sdk.plugins import registered
from pioreactor.sdk.unit import pio_home

SECTION = "web"


def _folder(text: str, default: Path) -> Path:
    return Path(text).expanduser() if text.strip() else default


def build_app(unit: str, *, leader: bool | None = None) -> tuple[Any, Any]:
    """The Flask app of this unit and its task queue, configured from ``[web]``."""
    from pioreactor.plugins_core.web.app import create_app, default_ui_folder
    from pioreactor.plugins_core.web.security import STORE, Security
    from pioreactor.plugins_core.web.tasks import TaskQueue

    config = get_config()
    with local_persistent_storage(STORE) as store:
        users = dict(store.get("users") or {})
        tokens = list(store.get("tokens") or [])
    from pioreactor.sdk import get_leader_hostname

    security = Security(
        unit=unit,
        leader=get_leader_hostname(),
        auth=config.get(SECTION, "auth").strip().lower() or "none",
        users=users,
        token_digests=tokens,
        allowed_origins=config.get(SECTION, "allowed_origins").split(","),
        job_start_burst=config.getfloat(SECTION, "job_start_burst"),
        job_starts_per_second=config.getfloat(SECTION, "job_starts_per_second"),
    )
    home = pio_home()
    tasks = TaskQueue(home / "storage" / "web_tasks.sqlite", workers=config.getint(SECTION, "task_workers"))
    exports = _folder(config.get(SECTION, "exports_folder"), home / "exports")
    exports.mkdir(parents=True, exist_ok=True)
    app = create_app(
        registered("pioreactor_register_web_routes").routes(),
        unit=unit,
        leader=am_i_leader() if leader is None else leader,
        tasks=tasks,
        security=security,
        ui_folder=_folder(config.get(SECTION, "ui_folder"), default_ui_folder()),
        exports_folder=exports,
        max_body_bytes=int(config.getfloat(SECTION, "max_body_mb") * 1024 * 1024),
    )
    return app, tasks


class WebServer(BackgroundJob):
    """Serve the web API (/unit_api, and /api on the leader) and the web UI.

    :param host: Address to listen on [default: from config, 0.0.0.0: every interface].
    :param port: Port to listen on [default: from config, 80; 0 picks a free one].
    """

    job_name = "web_server"
    #: spared by ``pio kill --all-jobs``, like the monitor and the database streamer
    long_running = True
    published_settings = {
        "port": {"datatype": "integer", "settable": False},
        "threads": {"datatype": "integer", "settable": False},
    }

    def __init__(self, unit: str, experiment: str, *, host: str | None = None, port: int | None = None) -> None:
        config = get_config()
        host = host if host is not None else config.get(SECTION, "host")
        port = port if port is not None else config.getint(SECTION, "port")
        threads = config.getint(SECTION, "threads")
        # the server belongs to the unit, not to an experiment
        super().__init__(unit, UNIVERSAL_EXPERIMENT)
        import waitress

        self.app, self.tasks = build_app(unit)
        try:
            self.server = waitress.create_server(
                self.app, host=host, port=port, threads=threads, ident="pioreactor", clear_untrusted_proxy_headers=True
            )
        except OSError as err:
            hint = " (ports below 1024 need root)" if port and port < 1024 else ""
            raise PioreactorError(
                f"cannot listen on {host}:{port}: {err.strerror or err}{hint}. "
                "Choose another with --port or [web] port."
            ) from None
        self.tasks.start()
        self.port = int(self.server.effective_port)
        self.threads = threads
        self._thread = threading.Thread(target=self._serve, name="web_server", daemon=True)
        self._thread.start()
        self.logger.info(f"Serving the web API on http://{host}:{self.port} ({threads} threads).")
        self._withdraw = self._advertise(host) if config.getboolean("mdns", "advertise", fallback=True) else None

    def _advertise(self, host: str) -> Any:
        """On the local network by mDNS, for `pio workers discover` (the cluster plugin's)."""
        try:
            from pioreactor.plugins_core.cluster.api import advertise
        except ImportError:  # the cluster plugin is not installed
            return None
        return advertise(self.unit, host, self.port, on_error=lambda why: self.logger.debug(f"Not advertised by mDNS: {why}"))

    def _serve(self) -> None:
        try:
            self.server.run()
        except Exception as err:  # the socket closed under us at shutdown, or a real failure
            if self.state not in (self.DISCONNECTED,):
                self.logger.error(f"The web server stopped: {type(err).__name__}: {err}")

    def on_disconnected(self) -> None:
        if self._withdraw is not None:
            self._withdraw()
        self.server.close()
        self.tasks.stop()
