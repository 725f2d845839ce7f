"""Calling a runtime hook: every implementation in pluggy's order, each plugin's failure isolated.

pluggy's own call stops at the first exception. A runtime hook (a job changed state, a dose is
about to run, every job stopped) must reach every plugin even when one of them is broken, so
this runs the implementations itself, in the order pluggy would (``tryfirst`` first, then the
most recently registered, ``trylast`` last) and with the wrappers around them
(``wrapper=True`` and the older ``hookwrapper=True``), and hands each failure, with the name of
the plugin, to ``on_error`` instead of raising.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy

OnError = Callable[[str, BaseException], None]


@dataclass
class HookOutcome:
    """What one call returned: the non-None results in call order, and the failures by plugin."""

    results: list[Any] = field(default_factory=list)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)


def report_to_stderr(hook_name: str) -> OnError:
    def report(plugin: str, err: BaseException) -> None:
        print(f"pio: plugin {plugin!r} failed in {hook_name}: {type(err).__name__}: {err}", file=sys.stderr)

    return report


def call_hook(
    hook: pluggy.HookCaller,
    kwargs: dict[str, Any],
    *,
    on_error: OnError | None = None,
    until: Callable[[str], bool] | None = None,
) -> HookOutcome:
    """Call every implementation of ``hook`` with the ``kwargs`` it asks for (for a
    ``firstresult`` hook, until one returns something other than None).

    :param on_error: called as ``on_error(plugin_name, exception)`` for each implementation that
        raised (default: one line on stderr); the others still run.
    :param until: called with the plugin name after each (non-wrapper) implementation; when it
        returns True, the remaining implementations are skipped (the wrappers still finish).
    """
    report = on_error or report_to_stderr(hook.name)
    outcome = HookOutcome()
    first_result_only = bool(hook.spec and hook.spec.opts.get("firstresult"))

    def fail(impl: pluggy.HookImpl, err: BaseException) -> None:
        outcome.failures.append((impl.plugin_name, err))
        report(impl.plugin_name, err)

    entered: list[tuple[pluggy.HookImpl, Generator[Any, Any, Any]]] = []
    stopped = False
    for impl in reversed(hook.get_hookimpls()):  # pluggy calls its list from the end
        args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        missing = [name for name in impl.argnames if name not in kwargs]
        if missing:
            fail(impl, TypeError(f"{hook.name} implementation asks for unknown arguments {missing}"))
            continue
        if impl.wrapper or impl.hookwrapper:
            try:
                generator = cast("Generator[Any, Any, Any]", impl.function(**args))
                next(generator)  # runs up to its yield
            except Exception as err:
                fail(impl, err)
            else:
                entered.append((impl, generator))
            continue
        if stopped:
            continue
        try:
            result = impl.function(**args)
        except Exception as err:
            fail(impl, err)
        else:
            if result is not None:
                outcome.results.append(result)
                stopped = first_result_only  # a firstresult hook stops at its first answer
        if until is not None and until(impl.plugin_name):
            stopped = True
    for impl, generator in reversed(entered):  # the innermost wrapper finishes first
        _finish_wrapper(impl, generator, outcome, fail)
    return outcome


def _finish_wrapper(
    impl: pluggy.HookImpl,
    generator: Generator[Any, Any, Any],
    outcome: HookOutcome,
    fail: Callable[[pluggy.HookImpl, BaseException], None],
) -> None:
    sent: Any = outcome.results
    if impl.hookwrapper:  # the older style receives a Result
        sent = pluggy.Result(outcome.results, None)
    try:
        generator.send(sent)
    except StopIteration as stop:
        if impl.wrapper and stop.value is not None:
            outcome.results = list(stop.value)  # a new-style wrapper may replace the results
        elif impl.hookwrapper:
            outcome.results = list(sent.get_result())  # or force_result() them
    except Exception as err:
        fail(impl, err)
    else:
        fail(impl, RuntimeError("the wrapper yielded more than once"))
