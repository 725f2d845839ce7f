"""The web-routes registry, and docs/web-api.md kept complete (fast: no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries.web import WebRouteRegistry
from pioreactor.sdk.testing import PioHome

DOC = Path(__file__).resolve().parent.parent / "docs" / "web-api.md"


def test_a_collision_names_both_plugins_whatever_the_variables_are_called() -> None:
    routes = WebRouteRegistry()
    routes.scoped("a").add("/experiments/<experiment>", "a.web:get_experiment", methods=("GET", "PATCH"), scope="api")
    routes.scoped("b").add("/experiments/<name>", "b.web:delete", methods=("DELETE",), scope="api")  # another method
    routes.scoped("b").add("/experiments/<name>", "b.web:get", scope="unit_api")  # another scope: fine
    with pytest.raises(
        RegistrationError, match=r"web route PATCH /api/experiments/<string> is registered by both plugin 'a' and plugin 'b'"
    ):
        routes.scoped("b").add("/experiments/<exp>", "b.web:patch", methods=("POST", "PATCH"), scope="api")
    assert ("api", "/experiments/<string>", "POST") not in routes.entries  # all or nothing


@pytest.mark.parametrize(
    ("rule", "target", "options", "message"),
    [
        ("experiments", "a.web:view", {}, "starting with '/'"),
        ("/a//b", "a.web:view", {}, "starting with '/'"),
        ("/a/<bad-name>", "a.web:view", {}, "starting with '/'"),
        ("/a", "a.web.view", {}, "package.module:view_function"),
        ("/a", "a.web:view", {"scope": "leader"}, "'unit_api' or 'api'"),
        ("/a", "a.web:view", {"methods": ("FETCH",)}, "FETCH"),
        ("/a", "a.web:view", {"methods": ()}, "methods"),
    ],
)
def test_bad_registrations_are_refused(rule: str, target: str, options: dict, message: str) -> None:
    with pytest.raises(RegistrationError, match=message):
        WebRouteRegistry().scoped("a").add(rule, target, **options)


def test_routes_have_their_paths_and_endpoints() -> None:
    routes = WebRouteRegistry()
    routes.scoped("a").add("/x/<path:name>", "a.web:x", methods=("get", "post"), scope="api")
    [get, post] = routes.routes()
    assert (get.path, get.method, post.method) == ("/api/x/<path:name>", "GET", "POST")
    assert get.endpoint != post.endpoint


def test_docs_list_every_route(pio_home: PioHome) -> None:
    from pioreactor.plugins_core.web.route_docs import rewrite, route_rows

    text = DOC.read_text(encoding="utf-8")
    assert rewrite(text) == text, (
        "docs/web-api.md is out of date: run `python -m pioreactor.plugins_core.web.route_docs docs/web-api.md`"
    )
    summaries = [row for row in route_rows() if not row["summary"] or row["summary"].startswith("(cannot import")]
    assert summaries == [], "every view needs a docstring (its first paragraph is the route's summary)"
