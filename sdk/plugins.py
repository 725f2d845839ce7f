"""What plugins registered, and how a plugin runs jobs and hooks the way ``pio`` does.

Read the registries without importing any job module (``spec.load()`` imports one target),
look at a job's command-line options, start a job from a click command, and call a hook.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from pioreactor.kernel.registries import AutomationSpec, Spec

__all__ = [
    "automation_kinds",
    "automations_of_kind",
    "expression_functions",
    "installed_plugin_versions",
    "is_unit_active",
    "job_command",
    "job_options",
    "load_config_with_plugins",
    "normalise_plugin_name",
    "pio_command",
    "profile_actions",
    "registered",
    "registered_jobs",
    "run_job_from_command",
]


def _host() -> Any:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host()


def registered(hook_name: str) -> Any:
    """The registry that every plugin's ``hook_name`` (``pioreactor_register_...``) filled, e.g.
    ``registered("pioreactor_register_timeseries").entries``."""
    from pioreactor.kernel.hookspecs import REGISTRATION_HOOKS
    from pioreactor.kernel.registries import load_target

    if hook_name not in REGISTRATION_HOOKS or hook_name == "pioreactor_register_config_defaults":
        known = ", ".join(sorted(set(REGISTRATION_HOOKS) - {"pioreactor_register_config_defaults"}))
        raise ValueError(f"{hook_name!r} is not a registration hook with a registry; known: {known}")
    return _host().registry(load_target(REGISTRATION_HOOKS[hook_name]))


def registered_jobs() -> dict[str, Spec]:
    """Every job and action that ``pio run NAME`` can start, by name (targets not imported)."""
    return dict(registered("pioreactor_register_jobs").entries)


def profile_actions() -> dict[str, Spec]:
    """Profile action types that plugins registered (``pioreactor_register_profile_actions``)."""
    return dict(registered("pioreactor_register_profile_actions").entries)


def expression_functions() -> dict[str, Spec]:
    """Expression functions that plugins registered (``pioreactor_register_expression_functions``)."""
    return dict(registered("pioreactor_register_expression_functions").entries)


def automations_of_kind(kind: str) -> dict[str, AutomationSpec]:
    """Automations of ``kind`` (``temperature``, ``led``, ``dosing``, ...), by name."""
    return dict(registered("pioreactor_register_automations").of_kind(kind))


def automation_kinds() -> set[str]:
    """Kinds with at least one automation; ``<kind>_automation`` is the job that runs them."""
    return {kind for kind, _ in registered("pioreactor_register_automations").entries}


def job_options(job_class: type) -> list[click.Option]:
    """The command-line options ``pio run`` gives ``job_class`` (its keyword-only parameters)."""
    from pioreactor.kernel.cli.job_command import options_for

    return options_for(job_class)


def job_command(name: str) -> click.Command:
    """The click command of the registered job or action ``name`` (imports its module)."""
    from pioreactor.kernel.cli.job_command import command_for

    return command_for(registered("pioreactor_register_jobs").get(name))


def run_job_from_command(job_name: str, job_class: type, options: dict[str, Any]) -> None:
    """Run ``job_class`` (registered as ``job_name``) from a click command's callback, as
    ``pio run`` runs a job, and exit with its code."""
    import click
    from pioreactor.kernel.runner import run_job

    spec = registered("pioreactor_register_jobs").get(job_name)
    overrides = (click.get_current_context().obj or {}).get("config_overrides", [])
    sys.exit(run_job(spec, job_class, options, overrides))


def load_config_with_plugins() -> None:
    """Load this process's config with every plugin's declared defaults under the files."""
    from pioreactor.kernel.plugins import load_config_with_plugins as load

    load()


def normalise_plugin_name(name: str) -> str:
    """The form :func:`installed_plugin_versions` keys on (lowercase, ``-`` separators)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_plugin_versions() -> dict[str, str | None]:
    """Installed plugins and distributions by normalised name (``air-bubbler``), with versions.

    Plugin names, their distributions' names and (for ``pioreactor-x`` distributions) ``x``
    all appear, so a user may name a plugin either way.
    """
    from pioreactor.kernel.discovery import distribution_metadata

    host = _host()
    distribution_metadata(host.plugins)
    found: dict[str, str | None] = {}
    for info in host.plugins:
        if not info.loaded:
            continue
        version = info.metadata.get("version")
        for name in (info.name, info.metadata.get("distribution"), info.metadata.get("name")):
            if name:
                found.setdefault(normalise_plugin_name(name), version)
    import importlib.metadata  # here, not at the top: every job imports this module, few ask this

    for dist in importlib.metadata.distributions():
        if not dist.name:
            continue
        name = normalise_plugin_name(dist.name)
        found.setdefault(name, dist.version)
        if name.startswith("pioreactor-"):
            found.setdefault(name[len("pioreactor-") :], dist.version)
    return found


def is_unit_active() -> bool:
    """Whether this unit takes part in experiments (``pio run`` refuses jobs otherwise)."""
    from pioreactor.kernel.identity import is_active

    return is_active()


def pio_command(*args: str) -> list[str]:
    """The argv that runs ``pio ARGS...`` with this interpreter, e.g. for ``subprocess.Popen``."""
    return [sys.executable, "-m", "pioreactor.kernel.cli", *args]
