"""A registered job's interface: its command-line options and published settings, read
without running it (the profile checker and dry run use it). Nothing here imports a job module
until it is asked about that job.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

from pioreactor.sdk.plugins import (
    automation_kinds,
    automations_of_kind,
    job_command,
    job_options,
    registered_jobs,
)

__all__ = ["JobInterface", "OptionInfo", "automation_interface", "experiment_profiles_dir", "job_interface"]


@dataclass(frozen=True)
class OptionInfo:
    """One command-line option of a job, as a profile names it (``target_rpm`` for ``--target-rpm``)."""

    key: str
    flag: str
    off_flag: str | None = None
    is_flag: bool = False
    required: bool = False
    #: the value used when the option is not given (None: none, or "read the config")
    default: str | int | float | bool | None = None
    #: click's name of its type: "float", "integer", "text", "boolean", "choice"...
    type_name: str = "text"


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
        """The option a profile names ``key`` (``target_rpm`` or ``target-rpm``), or None."""
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
            # click marks "no default" with a sentinel object (or holds a callable): not a value
            default=param.default if isinstance(param.default, str | int | float | bool) else None,
            type_name=str(getattr(param.type, "name", "text")),
        )
        for key in {info.key, *(_key_for(opt) for opt in long_flags), param.name or info.key}:
            found.setdefault(key, info)
    return found


def _class_interface(name: str, job_class: type, automation_kind: str | None = None) -> JobInterface:
    settings = job_class.all_published_settings() | {  # type: ignore[attr-defined]
        "$state": {"datatype": "string", "settable": True}
    }
    return JobInterface(name, _options_of(list(job_options(job_class))), settings, automation_kind)


def job_interface(name: str) -> JobInterface | None:
    """The options and settings of the registered job ``name``; None when no plugin registered it.

    Imports the job's module (and so raises what that import raises).
    """
    from pioreactor.sdk import BackgroundJob

    spec = registered_jobs().get(name)
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
    command: click.Command = job_command(name)
    return JobInterface(name, _options_of(list(command.params)), None, long_running=False)


def automation_interface(kind: str, automation_name: str) -> JobInterface | None:
    """The options (the automation's and its base's) and settings of one automation, or None."""
    spec = automations_of_kind(kind).get(automation_name)
    if spec is None:
        return None
    interface = _class_interface(f"{kind}_automation", spec.load(), kind)
    options = {"automation_name": OptionInfo("automation_name", "--automation-name", required=True)}
    return JobInterface(interface.name, options | interface.options, interface.settings, kind)


def experiment_profiles_dir() -> Path:
    """``$PIO_HOME/experiment_profiles``: where profiles are kept and looked up by file name."""
    from pioreactor.sdk import pio_home

    return pio_home() / "experiment_profiles"
