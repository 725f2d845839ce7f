"""The registry of HTTP routes that plugins contribute to the web server.

A route is a rule (the path after its prefix, in Flask's syntax: ``/experiments/<experiment>``),
a lazy ``"module:view"`` target, its methods and a scope: ``unit_api`` (served by every unit
under ``/unit_api``) or ``api`` (the leader only, under ``/api``). Two plugins claiming the same
scope, rule and method is an error that names both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pioreactor.kernel.errors import RegistrationError
from pioreactor.kernel.registries import TARGET_PATTERN, Spec

SCOPES = {"unit_api": "/unit_api", "api": "/api"}
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# a variable part: <name> or <converter:name>
VARIABLE = re.compile(r"<(?:([a-z_]+):)?([A-Za-z_][A-Za-z0-9_]*)>")
RULE_PATTERN = re.compile(r"^/([A-Za-z0-9_\-.$/]|<(?:[a-z_]+:)?[A-Za-z_][A-Za-z0-9_]*>)*$")


def rule_shape(rule: str) -> str:
    """The rule with variable names dropped: ``/a/<x>`` and ``/a/<y>`` are the same route."""
    return VARIABLE.sub(lambda m: f"<{m.group(1) or 'string'}>", rule)


@dataclass(frozen=True)
class WebRouteSpec:
    """One registered route: ``methods`` on ``prefix + rule`` served by ``target``."""

    rule: str
    target: str
    plugin: str
    methods: tuple[str, ...]
    scope: str
    summary: str = ""

    @property
    def path(self) -> str:
        """The full URL rule, e.g. ``/unit_api/jobs/running``."""
        return SCOPES[self.scope] + (self.rule if self.rule != "/" else "")

    @property
    def endpoint(self) -> str:
        """A unique Flask endpoint name for this route."""
        return f"{self.plugin}:{self.scope}:{self.rule}:{','.join(self.methods)}"

    def load(self) -> object:
        """Import the view function."""
        return Spec(self.rule, self.target, self.plugin).load()


class WebRouteRegistry:
    """Routes keyed by (scope, rule shape, method); collisions name both plugins."""

    kind = "web route"

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], WebRouteSpec] = {}

    def scoped(self, plugin: str) -> ScopedWebRouteRegistry:
        return ScopedWebRouteRegistry(self, plugin)

    def _add(
        self, plugin: str, rule: str, target: str, methods: Iterable[str], scope: str, summary: str
    ) -> None:
        where = f"plugin {plugin!r} registered the web route {rule!r}"
        if not isinstance(rule, str) or not RULE_PATTERN.match(rule) or "//" in rule:
            raise RegistrationError(
                f"{where}: a rule is the path after /api or /unit_api, starting with '/', e.g. "
                "'/experiments/<experiment>'"
            )
        if scope not in SCOPES:
            raise RegistrationError(f"{where} with scope {scope!r}: use 'unit_api' or 'api'")
        if isinstance(methods, str):
            methods = (methods,)
        verbs = tuple(dict.fromkeys(str(m).upper() for m in methods))
        bad = [m for m in verbs if m not in METHODS]
        if not verbs or bad:
            raise RegistrationError(f"{where} with methods {bad or '()'}: use {', '.join(sorted(METHODS))}")
        if not isinstance(target, str) or not TARGET_PATTERN.match(target):
            raise RegistrationError(f"{where} with target {target!r}: expected 'package.module:view_function'")
        spec = WebRouteSpec(rule, target, plugin, verbs, scope, summary)
        keys = [(scope, rule_shape(rule), method) for method in verbs]
        for key in keys:
            existing = self.entries.get(key)
            if existing is not None:
                raise RegistrationError(
                    f"web route {key[2]} {spec.path} is registered by both plugin {existing.plugin!r} "
                    f"and plugin {plugin!r}; uninstall or disable one of them"
                )
        for key in keys:
            self.entries[key] = spec

    def routes(self) -> list[WebRouteSpec]:
        """Each registered route once, sorted by path."""
        unique = {id(spec): spec for spec in self.entries.values()}
        return sorted(unique.values(), key=lambda s: (s.path, s.methods))


class ScopedWebRouteRegistry:
    """The view ``pioreactor_register_web_routes`` receives; routes are attributed to its plugin."""

    def __init__(self, registry: WebRouteRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin

    def add(
        self,
        rule: str,
        target: str,
        *,
        methods: Iterable[str] = ("GET",),
        scope: str = "unit_api",
        summary: str = "",
    ) -> None:
        """Serve ``target`` (``"package.module:view"``) at ``rule`` under the scope's prefix."""
        self._registry._add(self.plugin, rule, target, methods, scope, summary)
