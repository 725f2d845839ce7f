"""``pioreactor.automations.base``: ``AutomationJob``, and how upstream-style automation
classes become runnable with ``pio run <kind>_automation --automation-name NAME --option X``.

Upstream automations take their own options as ordinary parameters
(``def __init__(self, target_od, **kwargs)``) and receive them as text from the command line.
``__init_subclass__`` gives such an ``__init__`` a signature with keyword-only parameters, so
``pio run`` turns each into an option (typed by its annotation, text otherwise; required when
it has no default), and passes ``unit``/``experiment`` by keyword as upstream does.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from pioreactor.background_jobs.base import UpstreamJob, UpstreamStateHooks
from pioreactor.sdk.automations import AutomationJob as _SdkAutomationJob

SKIPPED = ("self", "unit", "experiment")


def upstream_signature(init: Any) -> Any:
    """Wrap an upstream-style ``__init__`` so its options are keyword-only (see the module doc)."""
    signature = inspect.signature(init)
    params = list(signature.parameters.values())
    options = [
        p for p in params if p.name not in SKIPPED and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if not any(p.kind is p.POSITIONAL_OR_KEYWORD for p in options):
        return init
    annotations = {}
    for p in options:
        annotation = p.annotation if p.annotation in (int, float, bool, str) else str
        annotations[p.name] = annotation
    new_params = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("unit", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
        inspect.Parameter("experiment", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
    ]
    new_params += [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=annotations[p.name])
        for p in options
    ]
    new_params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))

    @functools.wraps(init)
    def __init__(self: Any, unit: Any = None, experiment: Any = None, **kwargs: Any) -> None:  # noqa: N807
        if unit is not None:
            kwargs["unit"] = unit
        if experiment is not None:
            kwargs["experiment"] = experiment
        init(self, **kwargs)

    __init__.__signature__ = inspect.Signature(new_params)  # type: ignore[attr-defined]
    __init__.__annotations__ = dict(annotations)
    __init__._upstream_wrapped = True  # type: ignore[attr-defined]
    return __init__


class UpstreamAutomation(UpstreamJob):
    """Mixed into the automation bases: the signature adapter and ``plugin_name`` logs."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        own = cls.__module__.startswith("pioreactor.automations")  # our bases keep their signatures
        if init is not None and not own and not getattr(init, "_upstream_wrapped", False):
            cls.__init__ = upstream_signature(init)  # type: ignore[method-assign]


class AutomationJob(UpstreamAutomation, _SdkAutomationJob, UpstreamStateHooks):
    """Upstream's ``AutomationJob``: a job whose ``execute()`` decides and acts."""

    automation_name = "automation_job_base"

    def __init__(self, unit: str, experiment: str, **kwargs: Any) -> None:
        plugin_name = kwargs.pop("plugin_name", None)
        if plugin_name:
            self.source = plugin_name
        super().__init__(unit, experiment, **kwargs)
