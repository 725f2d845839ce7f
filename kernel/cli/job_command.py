"""Turns a registered job into a click command.

The keyword-only parameters of a job's ``__init__`` become options: ``target_rpm: float = 500.0``
becomes ``--target-rpm FLOAT`` (default shown in ``--help``), ``use_rpm: bool = True`` becomes
``--use-rpm/--no-use-rpm``, ``Literal["a", "b"]`` a choice, and a parameter without a default a
required option. ``:param name: text`` lines in the docstring become the options' help.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import sys
import types
import typing
from typing import Any, Literal, Union

import click
from pioreactor.kernel.errors import PioreactorError
from pioreactor.kernel.registries import JobSpec


class FiniteFloatRange(click.FloatRange):
    """click's ``FloatRange`` that also refuses ``nan`` and ``inf`` (which compare as in range)."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number is not None and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number

    def _describe_range(self) -> str:
        if self.min is None and self.max is None:
            return ""  # no bounds to show in --help
        return super()._describe_range()


#: what a job's ``float`` option takes
FINITE_FLOAT = FiniteFloatRange()

PARAM_DOC = re.compile(r":param\s+(\w+):\s*(.+?)(?=\n\s*:|\n\s*\n|\Z)", re.S)


def _param_docs(*objects: Any) -> dict[str, str]:
    docs: dict[str, str] = {}
    for obj in objects:
        for name, text in PARAM_DOC.findall(inspect.getdoc(obj) or ""):
            docs.setdefault(name, " ".join(text.split()))
    return docs


def _click_type(annotation: Any) -> tuple[Any, bool]:
    """(click type, is_flag) for an annotation; Optional[X] is treated as X."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _click_type(args[0])
        return click.STRING, False
    if origin is Literal:
        return click.Choice([str(a) for a in typing.get_args(annotation)]), False
    if annotation is bool:
        return click.BOOL, True
    if annotation is float:
        return FINITE_FLOAT, False
    if annotation in (int, str):
        return annotation, False
    return click.STRING, False


def keyword_parameters(job_class: type) -> list[tuple[inspect.Parameter, dict[str, Any], dict[str, str]]]:
    """Keyword-only ``__init__`` parameters along the class hierarchy, while ``**kwargs`` passes
    them up: an automation's own options, then those of its base (e.g. ``duration``)."""
    found: list[tuple[inspect.Parameter, dict[str, Any], dict[str, str]]] = []
    seen: set[str] = set()
    for klass in job_class.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            hints = typing.get_type_hints(init)
        except Exception:
            hints = {}
        docs = _param_docs(init, klass)
        parameters = inspect.signature(init).parameters.values()
        for param in parameters:
            if param.kind is inspect.Parameter.KEYWORD_ONLY and param.name not in seen:
                seen.add(param.name)
                found.append((param, hints, docs))
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    return found


_options: dict[type, list[click.Option]] = {}


def options_for(job_class: type) -> list[click.Option]:
    """The click options of ``job_class``'s keyword-only parameters, built once per class and
    process (the fork server builds them before forking). Do not change the list: copy it."""
    options = _options.get(job_class)
    if options is None:
        options = _options[job_class] = _build_options(job_class)
    return options


def _build_options(job_class: type) -> list[click.Option]:
    options = []
    for param, hints, docs in keyword_parameters(job_class):
        name = param.name
        kind, is_flag = _click_type(hints.get(name, str))
        required = param.default is inspect.Parameter.empty
        default = None if required else param.default
        # a one-letter parameter is a short option, as upstream's `pio run self_test -k NAME`
        flag = "-" + name if len(name) == 1 else "--" + name.replace("_", "-")
        help_text = docs.get(name, "")
        if default is None and not required and "[default" not in help_text:
            # the convention: None means "read the config"; a docstring can say otherwise
            help_text = (help_text + " [default: from config]").strip()
        if is_flag:
            options.append(
                click.Option(
                    [f"{flag}/--no-{flag[2:]}", name],
                    default=default,
                    show_default=default is not None,
                    help=help_text,
                )
            )
        else:
            extra: dict[str, Any] = {} if required else {"default": default}  # no default: click enforces it
            options.append(
                click.Option(
                    [flag, name],
                    type=kind,
                    required=required,
                    show_default=default is not None,
                    help=help_text,
                    **extra,
                )
            )
    return options


def _load_config_before(command: click.Command, spec: JobSpec) -> None:
    """A click action sees the same layered config (plugin defaults, overrides) as a job."""
    original = command.callback
    if original is None or getattr(original, "_pio_config_loaded", False):
        return

    @functools.wraps(original)
    def callback(*args: Any, **kwargs: Any) -> Any:
        from pioreactor.kernel.runner import claimed, prepare_config, stop_signals_act_now

        overrides = (click.get_current_context().obj or {}).get("config_overrides", [])
        if isinstance(command, click.Group):  # its subcommand runs after this returns: no claim
            stop_signals_act_now()
            prepare_config(spec, overrides)
            return original(*args, **kwargs)
        with claimed(spec.name, action=True):
            prepare_config(spec, overrides)
            return original(*args, **kwargs)

    callback._pio_config_loaded = True  # type: ignore[attr-defined]
    command.callback = callback


_built: dict[tuple[str, Any], click.Command] = {}


def command_for(spec: JobSpec) -> click.Command:
    """The click command that runs ``spec``, built once per process for each loaded target
    (the fork server builds every job's before forking: see `prebuild_commands`)."""
    target = spec.load()
    key = (spec.name, target)
    command = _built.get(key)
    if command is None:
        command = _built[key] = _build_command(spec, target)
    return command


def prebuild_commands(specs: list[JobSpec]) -> None:
    """Build the commands of ``specs`` now; one that fails is left to the command that runs it."""
    for spec in specs:
        try:
            command_for(spec)
        except Exception:  # noqa: S112 - reported when that job is run
            continue


def _build_command(spec: JobSpec, target: Any) -> click.Command:
    """A ``click.Command`` target is used as it is; a job class gets an option per parameter."""
    if isinstance(target, click.Command):
        target.name = spec.name
        _load_config_before(target, spec)
        return target

    from pioreactor.kernel.job import BackgroundJob

    if not (isinstance(target, type) and issubclass(target, BackgroundJob)):
        raise PioreactorError(
            f"job {spec.name!r} (plugin {spec.plugin!r}) points at {spec.target}, which is neither a "
            "BackgroundJob subclass nor a click.Command"
        )
    job_class: type[BackgroundJob] = target

    def callback(**options: Any) -> None:
        from pioreactor.kernel.runner import claimed, defer_stop_signals, run_job

        overrides = (click.get_current_context().obj or {}).get("config_overrides", [])
        defer_stop_signals()
        with claimed(spec.name):
            code = run_job(spec, job_class, options, overrides)
        sys.exit(code)

    doc = inspect.getdoc(job_class) or spec.summary
    doc = doc.split("\n:param")[0].strip()
    return click.Command(
        spec.name,
        callback=callback,
        params=list(options_for(job_class)),
        help=doc,
        short_help=spec.summary or None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
