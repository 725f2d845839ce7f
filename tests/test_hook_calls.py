"""Runtime hooks are called one way: pluggy's order, wrappers around them, each plugin's failure isolated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pioreactor.sdk import HookOutcome, call_hook
from pioreactor.sdk.testing import reset_process_state

HOOK = "pioreactor_test_event"


def plugin(body: str) -> str:
    return "from pioreactor.sdk import hookimpl\n\nfrom pioreactor_local_plugin_0_calls import calls\n\n" + body


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    monkeypatch.delenv("PIO_STRICT_PLUGINS", raising=False)
    folder = tmp_path / "plugins"
    folder.mkdir()
    # declares the hook, and keeps the list where the plugins below write down their turn
    (folder / "0_calls.py").write_text(
        "from pioreactor.sdk import hookimpl, hookspec\n\ncalls = []\n\n\n"
        "class Spec:\n    @hookspec\n    def pioreactor_test_event(self, unit):\n        pass\n\n"
        "    @hookspec(firstresult=True)\n    def pioreactor_test_pick(self, unit):\n        pass\n\n\n"
        "@hookimpl\ndef pioreactor_addhooks(pluginmanager):\n    pluginmanager.add_hookspecs(Spec)\n"
    )
    (folder / "a_last.py").write_text(
        plugin("@hookimpl(trylast=True)\ndef pioreactor_test_event(unit):\n    calls.append('last')\n")
    )
    (folder / "b_plain.py").write_text(
        plugin("@hookimpl\ndef pioreactor_test_event(unit):\n    calls.append('plain ' + unit)\n    return 'plain'\n")
    )
    (folder / "c_first.py").write_text(
        plugin(
            "@hookimpl(tryfirst=True)\ndef pioreactor_test_event(unit):\n    calls.append('first')\n\n\n"
            "@hookimpl\ndef pioreactor_test_pick(unit):\n    calls.append('pick c')\n    return 'c'\n"
        )
    )
    (folder / "d_wrapper.py").write_text(
        plugin(
            "@hookimpl(wrapper=True)\ndef pioreactor_test_event(unit):\n"
            "    calls.append('wrapper before')\n"
            "    results = yield\n"
            "    calls.append(f'wrapper after {results}')\n"
            "    return results + ['wrapped']\n"
        )
    )
    (folder / "e_old_wrapper.py").write_text(
        plugin(
            "@hookimpl(hookwrapper=True)\ndef pioreactor_test_event(unit):\n"
            "    calls.append('old wrapper before')\n"
            "    outcome = yield\n"
            "    calls.append(f'old wrapper after {outcome.get_result()}')\n"
        )
    )
    reset_process_state()
    yield folder
    reset_process_state()


def calls() -> list[str]:
    import sys

    return list(sys.modules["pioreactor_local_plugin_0_calls"].calls)


def test_tryfirst_trylast_and_wrappers_run_in_pluggys_order(home: Path) -> None:
    outcome = call_hook(HOOK, {"unit": "u1"})
    assert isinstance(outcome, HookOutcome) and outcome.failures == []
    assert calls() == [
        "old wrapper before",
        "wrapper before",
        "first",
        "plain u1",
        "last",
        "wrapper after ['plain']",
        "old wrapper after ['plain', 'wrapped']",
    ]
    assert outcome.results == ["plain", "wrapped"]


def test_a_failing_plugin_is_reported_by_name_and_the_others_still_run(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "c_first.py").write_text(
        plugin("@hookimpl(tryfirst=True)\ndef pioreactor_test_event(unit):\n    raise OSError('no bus')\n")
    )
    outcome = call_hook(HOOK, {"unit": "u1"})
    assert [(name, str(err)) for name, err in outcome.failures] == [("c_first", "no bus")]
    assert "pio: plugin 'c_first' failed in pioreactor_test_event: OSError: no bus" in capsys.readouterr().err
    assert "plain u1" in calls() and "last" in calls() and "wrapper after ['plain']" in calls()


def test_a_caller_handles_failures_itself_and_can_stop_early(home: Path) -> None:
    seen: list[str] = []
    outcome = call_hook(
        HOOK,
        {"unit": "u1"},
        on_error=lambda name, err: seen.append(name),
        until=lambda name: name == "b_plain",  # e.g. a veto: the rest is skipped
    )
    assert "last" not in calls() and "plain u1" in calls()
    assert calls()[-1] == "old wrapper after ['plain', 'wrapped']"  # wrappers still finish
    assert seen == [] and outcome.failures == []


def test_a_firstresult_hook_stops_at_the_first_answer(home: Path) -> None:
    (home / "f_none.py").write_text(
        plugin("@hookimpl(tryfirst=True)\ndef pioreactor_test_pick(unit):\n    calls.append('pick f')\n")
    )
    (home / "g_last.py").write_text(
        plugin("@hookimpl(trylast=True)\ndef pioreactor_test_pick(unit):\n    calls.append('pick g')\n    return 'g'\n")
    )
    outcome = call_hook("pioreactor_test_pick", {"unit": "u1"})
    assert outcome.results == ["c"] and calls() == ["pick f", "pick c"]
