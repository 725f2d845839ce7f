"""The Flask app, assembled from the routes that plugins register.

``/unit_api/...`` routes are served on every unit, ``/api/...`` routes on the leader only (a
worker answers them 404, pointing at ``/unit_api``). Other GET paths are the web UI's: files
under ``/static/``, exported zips under ``/exports/``, and ``index.html`` for any other path
(the single-page app routes in the browser).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_from_directory
from pioreactor.plugins_core.web.api import ApiError
from pioreactor.plugins_core.web.security import Security
from pioreactor.plugins_core.web.tasks import TaskQueue
from werkzeug.exceptions import HTTPException, NotFound

log = logging.getLogger("pioreactor_web")
PLACEHOLDER_UI = Path(__file__).parent / "placeholder_ui"
#: the built web UI (``npm run build`` in ui/), shipped in the package
BUILT_UI = Path(__file__).parent / "ui_dist"


def default_ui_folder() -> Path:
    """The built UI when the package has it, else a page saying how to build it."""
    return BUILT_UI if (BUILT_UI / "index.html").is_file() else PLACEHOLDER_UI
API_PREFIXES = ("/api/", "/unit_api/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/api", "/unit_api")


def _lazy_view(spec: Any) -> Callable[..., Any]:
    """Imports the route's module on its first request, so start-up stays quick."""
    loaded: list[Callable[..., Any]] = []

    def view(**kwargs: Any) -> Any:
        if not loaded:
            loaded.append(spec.load())
        return loaded[0](**kwargs)

    view.__name__ = spec.endpoint
    view.__doc__ = spec.summary
    return view


CATCH_ALL = frozenset({"api_root", "api_unknown", "unit_api_root", "unit_api_unknown", "ui_index", "ui_fallback"})


def _other_methods(app: Flask, path: str) -> list[str]:
    """Methods a registered route allows on ``path`` (the catch-all routes aside)."""
    adapter = app.url_map.bind("localhost")
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint not in CATCH_ALL:
            allowed.append(method)
    return allowed


def _error_response(status: int, error: str, cause: str | None = None, remediation: str | None = None) -> Response:
    response = jsonify({"error": error, "cause": cause, "remediation": remediation})
    response.status_code = status
    return response


def create_app(
    routes: list[Any],
    *,
    unit: str,
    leader: bool,
    tasks: TaskQueue,
    security: Security,
    ui_folder: Path | None = None,
    exports_folder: Path | None = None,
    max_body_bytes: int = 16 * 1024 * 1024,
) -> Flask:
    """The app for ``routes`` (one :class:`WebRouteSpec` per rule and method); ``/api`` routes
    only when ``leader``."""
    ui = Path(ui_folder) if ui_folder else default_ui_folder()
    app = Flask("pioreactor_web", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["pioreactor_tasks"] = tasks
    app.extensions["pioreactor_security"] = security
    app.extensions["pioreactor_unit"] = unit
    app.extensions["pioreactor_leader"] = leader
    app.extensions["pioreactor_exports"] = exports_folder

    for spec in routes:
        if spec.scope == "api" and not leader:
            continue
        app.add_url_rule(spec.path, endpoint=spec.endpoint, view_func=_lazy_view(spec), methods=[spec.method])

    @app.before_request
    def guard() -> Any:
        return security.check(request)

    @app.route("/api", endpoint="api_root", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/api/<path:rest>", endpoint="api_unknown", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/unit_api", endpoint="unit_api_root", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route(
        "/unit_api/<path:rest>", endpoint="unit_api_unknown", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    def unknown_api(rest: str = "") -> Any:
        allowed = _other_methods(app, request.path)
        if allowed:
            raise ApiError(
                405, f"{request.method} is not allowed on {request.path}", remediation=f"Use {', '.join(allowed)}."
            )
        if request.path.startswith("/api") and not leader:
            raise ApiError(
                404,
                f"{unit} is not the leader: /api routes are served by the leader only",
                remediation=f"Use /unit_api{request.path[4:]} on this unit, or call the leader's /api.",
            )
        raise ApiError(404, f"no route {request.method} {request.path}", remediation="docs/web-api.md lists every route.")

    @app.get("/static/<path:filename>", endpoint="static")
    def static(filename: str) -> Any:
        return send_from_directory(ui, filename, max_age=3600)

    @app.get("/exports/<path:filename>", endpoint="exports")
    def exports(filename: str) -> Any:
        if exports_folder is None:
            raise NotFound()
        return send_from_directory(exports_folder, filename, as_attachment=True)

    @app.get("/", endpoint="ui_index")
    @app.get("/<path:path>", endpoint="ui_fallback")
    def index(path: str = "") -> Any:
        response = send_from_directory(ui, "index.html", max_age=0)
        return response

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return _error_response(err.status, err.error, err.cause, err.remediation)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        if err.code == 413:
            return _error_response(
                413,
                "the request body is too large",
                cause=f"at most {max_body_bytes} bytes are accepted",
                remediation="Send less, or raise [web] max_body_mb.",
            )
        if not is_api_path(request.path) and err.code == 404:
            return err
        response = _error_response(err.code or 500, err.name, err.description)
        if err.code == 405 and err.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.path)
        return _error_response(500, f"{type(err).__name__}: {err}", cause="an unexpected error in the web server")

    @app.after_request
    def headers(response: Response) -> Response:
        if is_api_path(request.path):
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.update(security.cors_headers(request))
        return response

    return app
