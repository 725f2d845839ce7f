"""The registry of HTTP routes that plugins contribute to the web server.

A route is a rule (the path after its prefix, in Flask's syntax: ``/experiments/<experiment>``),
a lazy ``"module:view"`` target, its methods and a scope: ``unit_api`` (served by every unit
under ``/unit_api``) or ``api`` (the leader only, under ``/api``). Entries are keyed by (scope,
rule shape, method), so two plugins claiming the same route and method collide, naming both,
whatever they call the variables.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import Registry, load_target

SCOPES = {"unit_api": "/unit_api", "api": "/api"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# a variable part: <name> or <converter:name>
VARIABLE = re.compile(r"<(?:([a-z_]+):)?([A-Za-z_][A-Za-z0-9_]*)>")
RULE_PATTERN = re.compile(r"^/([A-Za-z0-9_\-.$/]|<(?:[a-z_]+:)?[A-Za-z_][A-Za-z0-9_]*>)*$")


def rule_shape(rule: str) -> str:
    """The rule without variable names: ``/a/<x>`` and ``/a/<y>`` are the same route."""
    return VARIABLE.sub(lambda m: f"<{m.group(1) or 'string'}>", rule)


@dataclass(frozen=True)
class WebRouteSpec:
    """One registered route and method: ``method`` on ``prefix + rule`` served by ``target``."""

    rule: str
    target: str
    plugin: str
    method: str
    scope: str
    summary: str = ""

    @property
    def path(self) -> str:
        """The full URL rule, e.g. ``/unit_api/jobs/running``."""
        return SCOPES[self.scope] + (self.rule if self.rule != "/" else "")

    @property
    def endpoint(self) -> str:
        """A unique Flask endpoint name for this route and method."""
        return f"{self.plugin}:{self.method}:{self.path}"

    def load(self) -> Any:
        """Import the view function."""
        return load_target(self.target)


class WebRouteRegistry(Registry[WebRouteSpec]):
    """Routes keyed by (scope, rule shape, method)."""

    kind = "web route"

    def key_of(self, entry: WebRouteSpec) -> Hashable:
        return (entry.scope, rule_shape(entry.rule), entry.method)

    def describe(self, key: Any) -> str:
        scope, shape, method = key
        return f"the web route {method} {SCOPES[scope]}{shape}"

    def add(
        self,
        rule: str,
        target: str,
        *,
        methods: Iterable[str] = ("GET",),
        scope: str = "unit_api",
        summary: str = "",
    ) -> None:
        """Serve ``target`` (``"package.module:view"``) at ``rule`` under the scope's prefix
        (``unit_api``: every unit; ``api``: the leader) for each of ``methods``."""
        where = f"plugin {self.plugin!r} registered the web route {rule!r}"
        if not isinstance(rule, str) or not RULE_PATTERN.match(rule) or "//" in rule:
            raise RegistrationError(
                f"{where}: a rule is the path after /api or /unit_api, starting with '/', e.g. "
                "'/experiments/<experiment>'"
            )
        if scope not in SCOPES:
            raise RegistrationError(f"{where} with scope {scope!r}: use 'unit_api' or 'api'")
        verbs = tuple(dict.fromkeys(str(m).upper() for m in ((methods,) if isinstance(methods, str) else methods)))
        bad = [m for m in verbs if m not in METHODS]
        if not verbs or bad:
            raise RegistrationError(f"{where} with methods {bad or '()'}: use {', '.join(METHODS)}")
        self.check_target(rule, target, "package.module:view_function")
        entries = [WebRouteSpec(rule, target, self.plugin, verb, scope, summary) for verb in verbs]
        for entry in entries:  # all or nothing: check every method before adding any
            existing = self.entries.get(self.key_of(entry))
            if existing is not None:
                raise self.collision(self.key_of(entry), existing.plugin, self.plugin)
        for entry in entries:
            self.put(entry)

    def routes(self) -> list[WebRouteSpec]:
        """Every route and method, sorted by path then method."""
        return sorted(self.entries.values(), key=lambda s: (s.path, METHODS.index(s.method)))
