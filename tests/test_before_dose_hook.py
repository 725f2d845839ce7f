"""``pioreactor_before_dose`` belongs to the pumps plugin (added through ``pioreactor_addhooks``)
and runs in pluggy's order: ``tryfirst`` first, ``trylast`` last, wrappers around them; a veto
skips the rest, and a plugin that raises vetoes the dose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pioreactor.plugins_core.pumps.api import DoseRequest, call_before_dose_hooks
from pioreactor.sdk.testing import reset_process_state

FIRST = "@hookimpl(tryfirst=True)\ndef pioreactor_before_dose(dose):\n    dose.ml = dose.ml * 10\n"
LAST = "@hookimpl(trylast=True)\ndef pioreactor_before_dose(dose):\n    dose.ml = dose.ml + 1\n"
WRAPPER = (
    "@hookimpl(wrapper=True)\ndef pioreactor_before_dose(dose):\n"
    "    dose.ml = dose.ml * 2\n    result = yield\n    dose.ml = dose.ml - 0.5\n    return result\n"
)


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    monkeypatch.delenv("PIO_STRICT_PLUGINS", raising=False)
    folder = tmp_path / "plugins"
    folder.mkdir()
    reset_process_state()
    yield folder
    reset_process_state()


def install(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text("from pioreactor.sdk import hookimpl\n\n\n" + body)


def request(ml: float = 1.0) -> DoseRequest:
    return DoseRequest("unit1", "exp1", "media", ml, "test")


def test_tryfirst_then_trylast_inside_the_wrappers(plugins: Path) -> None:
    # registration order is the reverse of what the markers ask for
    install(plugins, "a_last", LAST)
    install(plugins, "b_first", FIRST)
    install(plugins, "c_wrapper", WRAPPER)
    dose = request(1.0)
    call_before_dose_hooks(dose)
    # wrapper before (x2), tryfirst (x10), trylast (+1), wrapper after (-0.5)
    assert dose.ml == pytest.approx(20.5) and not dose.vetoed


def test_a_veto_skips_the_rest_and_names_its_plugin(plugins: Path) -> None:
    install(plugins, "a_last", LAST)
    install(plugins, "b_guard", "@hookimpl(tryfirst=True)\ndef pioreactor_before_dose(dose):\n    dose.veto('too much')\n")
    install(plugins, "c_wrapper", WRAPPER)
    dose = request(1.0)
    call_before_dose_hooks(dose)
    assert dose.vetoed_because == "too much (plugin 'b_guard')"
    assert dose.ml == pytest.approx(1.5)  # the trylast one did not run; the wrapper finished


def test_a_plugin_that_raises_vetoes_the_dose(plugins: Path) -> None:
    install(plugins, "a_broken", "@hookimpl\ndef pioreactor_before_dose(dose):\n    raise RuntimeError('no sensor')\n")
    dose = request(1.0)
    call_before_dose_hooks(dose)
    assert dose.vetoed_because == "plugin 'a_broken' raised RuntimeError: no sensor (plugin 'a_broken')"


def test_the_hook_is_the_pumps_plugins_not_the_kernels() -> None:
    from pioreactor.kernel import hookspecs
    from pioreactor.plugins_core.pumps import hookspecs as pump_specs

    assert not hasattr(hookspecs, "pioreactor_before_dose")
    assert pump_specs.pioreactor_before_dose.__annotations__["dose"] == "DoseRequest"
