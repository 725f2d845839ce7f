"""What the experiment-profile plugin needs from the kernel, for it and for any other scheduler.

The registries that plugins fill (jobs, automations, profile actions, expression functions), a
look at a registered job's command-line options and published settings without running it,
the installed plugins with their versions, where profiles live, and how to start ``pio`` in a
subprocess. Nothing here imports a job module until it is asked about that job.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from pioreactor.kernel.registries import AutomationSpec, Spec

__all__ = [
    "JobInterface",
    "OptionInfo",
    "automation_interface",
    "automation_kinds",
    "automations_of_kind",
    "experiment_profiles_dir",
    "expression_functions",
    "installed_plugin_versions",
    "is_unit_active",
    "job_interface",
    "normalise_plugin_name",
    "pio_command",
    "profile_actions",
    "registered_jobs",
]


def _host() -> Any:
    from pioreactor.kernel.plugins import get_plugin_host

    return get_plugin_host()


def _registries() -> Any:
    from pioreactor.kernel.registries import targets

    return targets


def registered_jobs() -> dict[str, Spec]:
    """Every job and action that ``pio run NAME`` can start, by name (targets not imported)."""
    return dict(_host().registry(_registries().JobDefinitions).entries)


def profile_actions() -> dict[str, Spec]:
    """Profile action types that plugins registered (``pioreactor_register_profile_actions``)."""
    return dict(_host().registry(_registries().ProfileActionRegistry).entries)


def expression_functions() -> dict[str, Spec]:
    """Expression functions that plugins registered (``pioreactor_register_expression_functions``)."""
    return dict(_host().registry(_registries().ExpressionFunctionRegistry).entries)


def automations_of_kind(kind: str) -> dict[str, AutomationSpec]:
    """Automations of ``kind`` (``temperature``, ``led``, ``dosing``, ...), by name."""
    return dict(_host().registry(_registries().AutomationRegistry).of_kind(kind))


def automation_kinds() -> set[str]:
    """Kinds with at least one automation; ``<kind>_automation`` is the job that runs them."""
    return {kind for kind, _ in _host().registry(_registries().AutomationRegistry).entries}


@dataclass(frozen=True)
class OptionInfo:
    """One command-line option of a job, as a profile names it (``target_rpm`` for ``--target-rpm``)."""

    key: str
    flag: str
    off_flag: str | None = None
    is_flag: bool = False
    required: bool = False


@dataclass(frozen=True)
class JobInterface:
    """What a registered job accepts: options when it starts, settings while it runs.

    ``settings`` is None for jobs whose settings cannot be known before they run (a plain
    click command, or an automation job before its automation is chosen).
    """

    name: str
    options: dict[str, OptionInfo]
    settings: dict[str, dict[str, Any]] | None
    #: the automation kind when the job is ``<kind>_automation`` (options then need the automation)
    automation_kind: str | None = None
    #: a BackgroundJob (publishes ``$state``) rather than a one-shot command
    long_running: bool = True

    def option(self, key: str) -> OptionInfo | None:
        return self.options.get(key) or self.options.get(key.replace("-", "_"))


def _key_for(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _options_of(params: list[Any]) -> dict[str, OptionInfo]:
    import click

    found: dict[str, OptionInfo] = {}
    for param in params:
        if not isinstance(param, click.Option) or param.hidden or param.name in ("help", "show_help"):
            continue
        long_flags = [opt for opt in param.opts if opt.startswith("--")] or list(param.opts)
        if not long_flags:
            continue
        flag = long_flags[0]
        off = next(iter(param.secondary_opts), None)
        info = OptionInfo(
            key=_key_for(flag),
            flag=flag,
            off_flag=off,
            is_flag=bool(param.is_flag),
            required=bool(param.required),
        )
        for key in {info.key, *(_key_for(opt) for opt in long_flags), param.name or info.key}:
            found.setdefault(key, info)
    return found


def _class_interface(name: str, job_class: type, automation_kind: str | None = None) -> JobInterface:
    from pioreactor.kernel.cli.job_command import options_for

    settings = job_class.all_published_settings() | {  # type: ignore[attr-defined]
        "$state": {"datatype": "string", "settable": True}
    }
    return JobInterface(name, _options_of(list(options_for(job_class))), settings, automation_kind)


def job_interface(name: str) -> JobInterface | None:
    """The options and settings of the registered job ``name``; None when no plugin registered it.

    Imports the job's module (and so raises what that import raises).
    """
    from pioreactor.kernel.cli.job_command import command_for
    from pioreactor.kernel.job import BackgroundJob

    spec = _host().registry(_registries().JobDefinitions).entries.get(name)
    if spec is None:
        return None
    kind = name.removesuffix("_automation") if name.endswith("_automation") else None
    if kind is not None and kind in automation_kinds():
        return JobInterface(
            name,
            {"automation_name": OptionInfo("automation_name", "--automation-name", required=True)},
            None,
            automation_kind=kind,
        )
    target = spec.load()
    if inspect.isclass(target) and issubclass(target, BackgroundJob):
        return _class_interface(name, target)
    command: click.Command = command_for(spec)
    return JobInterface(name, _options_of(list(command.params)), None, long_running=False)


def automation_interface(kind: str, automation_name: str) -> JobInterface | None:
    """The options (the automation's and its base's) and settings of one automation, or None."""
    spec = _host().registry(_registries().AutomationRegistry).entries.get((kind, automation_name))
    if spec is None:
        return None
    interface = _class_interface(f"{kind}_automation", spec.load(), kind)
    options = {"automation_name": OptionInfo("automation_name", "--automation-name", required=True)}
    return JobInterface(interface.name, options | interface.options, interface.settings, kind)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_plugin_versions() -> dict[str, str | None]:
    """Installed plugins and distributions by normalised name (``air-bubbler``), with versions.

    Plugin names, their distributions' names and (for ``pioreactor-x`` distributions) ``x``
    all appear, so a profile may name a plugin either way.
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
                found.setdefault(_normalise(name), version)
    for dist in importlib.metadata.distributions():
        name = dist.name
        if not name:
            continue
        found.setdefault(_normalise(name), dist.version)
        if _normalise(name).startswith("pioreactor-"):
            found.setdefault(_normalise(name)[len("pioreactor-") :], dist.version)
    return found


def normalise_plugin_name(name: str) -> str:
    """The form :func:`installed_plugin_versions` keys on (lowercase, ``-`` separators)."""
    return _normalise(name)


def experiment_profiles_dir() -> Path:
    """``$PIO_HOME/experiment_profiles``: where profiles are kept and looked up by file name."""
    from pioreactor.kernel.paths import pio_home

    return pio_home() / "experiment_profiles"


def is_unit_active() -> bool:
    """Whether this unit takes part in experiments (``pio run`` refuses jobs otherwise)."""
    from pioreactor.kernel.identity import is_active

    return is_active()


def pio_command(*args: str) -> list[str]:
    """The argv that runs ``pio ARGS...`` with this interpreter, e.g. for ``subprocess.Popen``."""
    return [sys.executable, "-m", "pioreactor.kernel.cli", *args]
