"""Verifying profiles: each kind of mistake gives its own message, with its line, column and a
hint; both formats (older and version 1.0) are accepted; ``pio run experiment_profile verify``
prints the problems and exits non-zero; ``--dry-run`` prints the timeline.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pioreactor.plugins_core.profiles.checks import Catalog
from pioreactor.plugins_core.profiles.validate import check_text

PROFILES = Path(__file__).parent / "fixtures" / "profiles"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """This install's plugins (core only: an empty PIO_HOME), asked once for the whole module."""
    from pioreactor.sdk.testing import reset_process_state

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIO_HOME", str(tmp_path_factory.mktemp("pio_home")))
        reset_process_state()
        yield Catalog()
        reset_process_state()


def problems_of(text: str, catalog: Catalog) -> list[tuple[str, int, int, str, str, str]]:
    _, problems, _ = check_text(textwrap.dedent(text), "p.yaml", catalog)
    return [(p.code, p.line, p.column, p.message, p.hint, p.severity) for p in problems]


HEAD = 'version: "1.0"\nexperiment_profile_name: test\n'

# (id, YAML after HEAD, code, line, column, words in the message, words in the hint)
MISTAKES = [
    ("yaml syntax", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n         t: 0s\n", "yaml.syntax", 8, 10, "not valid YAML", "indentation"),
    ("duplicate key", "common:\n  jobs:\n    stirring: {actions: []}\n    stirring: {actions: []}\n", "yaml.duplicate_key", 6, 5, "'stirring' appears twice", "merge"),
    ("unknown top-level field", "labels: {worker1: hot}\n", "schema.unknown_field", 3, 1, "unknown field 'labels'", "pioreactors.<unit>.label"),
    ("jobs not under jobs:", "common:\n  stirring:\n    actions: []\n", "schema.unknown_field", 4, 3, "unknown field 'stirring' in common", "common.jobs"),
    ("misspelt action field", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          option: {target_rpm: 3}\n",
     "schema.unknown_field", 9, 11, "unknown field 'option' in a start action", "did you mean options?"),
    ("field of another action", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: stop\n          t: 1h\n          every: 2h\n",
     "schema.unknown_field", 9, 11, "unknown field 'every' in a stop action", "every belongs to repeat"),
    ("missing name", 'common: {}\n', "schema.missing_field", 1, 1, "experiment_profile_name is missing", "add a name"),
    ("wrong type", "common:\n  jobs:\n    stirring:\n      actions: {type: start}\n", "schema.type", 6, 16, "actions must be a list", "actions expects"),
    ("unknown action type", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: strat, t: 0s}\n", "action.type.unknown", 7, 18, "unknown action type 'strat'", "did you mean start?"),
    ("repeat in a repeat", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: repeat\n          t: 0s\n          every: 1h\n          actions:\n            - {type: repeat, t: 0s, every: 1h}\n",
     "repeat.nested", 11, 22, "a repeat cannot contain a repeat", "a when may hold a repeat"),
    ("bad log level", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: log, t: 0s, options: {message: hi, level: loud}}\n", "log.level.invalid", 7, 60, "unknown log level 'loud'", "notice"),
    ("version", 'version: "2.0"\nexperiment_profile_name: test\n', "profile.version.invalid", 1, 10, "unknown profile format version '2.0'", 'version: "1.0"'),
    ("time not a duration", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 5 minutes}\n", "time.invalid", 7, 28, "'5 minutes' is not a duration", "30s, 2m"),
    ("negative time", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: -2m}\n", "time.negative", 7, 28, "is negative", "use 0"),
    ("old time not a number", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, hours_elapsed: 1h}\n", "time.invalid", 7, 40, "hours_elapsed is a number of hours", "newer field"),
    ("both times", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0s, hours_elapsed: 0}\n", "action.time.conflict", 7, 32, "both t and hours_elapsed", "keep one"),
    ("no time", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start}\n", "action.time.missing", 7, 18, "has no time", "add t: 0s"),
    ("zero every", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: repeat, t: 0s, every: 0m}\n", "time.non_positive", 7, 40, "every must be longer than 0", "a loop needs a period"),
    ("repeat without every", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: repeat, t: 0s}\n", "repeat.every.missing", 7, 18, "does not say how often", "every: 1h"),
    ("every twice", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: repeat, t: 0s, every: 1h, repeat_every_hours: 1}\n", "repeat.every.ambiguous", 7, 44, "both every and repeat_every_hours", "keep one"),
    ("when without condition", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: when, t: 0s}\n", "when.condition.missing", 7, 18, "nothing to wait for", "wait_until"),
    ("when with both", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: when, t: 0s, wait_until: 'true', condition: 'true'}\n", "when.condition.ambiguous", 7, 51, "both wait_until and condition", "keep one"),
    ("expression syntax", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          if: ${{ ::stirring:target_rpm > > 3 }}\n",
     "expression.syntax", 9, 43, "the expression in if does not parse: unexpected '>'", "a value on each side"),
    ("unknown function", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          if: ${{ 1 + dubble(2) > 3 }}\n",
     "expression.unknown_function", 9, 23, "there is no function dubble()", "functions: experiment"),
    ("unknown job", "common:\n  jobs:\n    stirrer:\n      actions:\n        - {type: start, t: 0s}\n", "job.unknown", 5, 5, "no job named stirrer", "did you mean stirring?"),
    ("unknown option", "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          options: {target_rmp: 300}\n",
     "job.unknown_option", 9, 21, "stirring has no option 'target_rmp'", "did you mean target_rpm?"),
    ("unknown setting", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0s}\n        - {type: update, t: 1h, options: {speed: 3}}\n",
     "job.unknown_setting", 8, 43, "stirring has no setting 'speed'", "settings you can update"),
    ("read-only setting", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0s}\n        - {type: update, t: 1h, options: {measured_rpm: 3}}\n",
     "job.read_only_setting", 8, 43, "measured_rpm of stirring is read-only", "target_rpm"),
    ("automation without name", "common:\n  jobs:\n    led_automation:\n      actions:\n        - {type: start, t: 0s}\n", "automation.missing_name", 7, 11, "needs options.automation_name", "silent"),
    ("unknown automation", "common:\n  jobs:\n    led_automation:\n      actions:\n        - {type: start, t: 0s, options: {automation_name: silently}}\n",
     "automation.unknown", 7, 59, "no led automation named 'silently'", "did you mean silent?"),
    ("automation option", "common:\n  jobs:\n    led_automation:\n      actions:\n        - {type: start, t: 0s, options: {automation_name: silent, target_temperature: 3}}\n",
     "job.unknown_option", 7, 67, "led_automation has no option 'target_temperature'", "duration"),
    ("update before start", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: update, t: 0s, options: {target_rpm: 3}}\n        - {type: start, t: 1h}\n",
     "job.ordering.before_start", 7, 11, "this update of stirring at 0s comes before its start at 1h", "move the update"),
    ("never started", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: pause, t: 2h}\n", "job.ordering.before_start", 7, 11, "stirring is never started by this profile", "start stirring yourself"),
    ("unreachable repeat child", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0s}\n        - type: repeat\n          t: 1h\n          every: 30m\n          actions:\n            - {type: log, t: 45m, options: {message: x}}\n",
     "repeat.unreachable_action", 12, 15, "this log at 45m never runs: each loop of the repeat lasts 30m", "no later than"),
    ("plugin missing", "plugins:\n  - {name: air_bubbler, version: '>=0.5.0'}\n", "plugin.missing", 4, 12, "needs plugin air_bubbler", "pio plugins install air_bubbler"),
    ("plugin version spec", "plugins:\n  - {name: pioreactor, version: '=>1'}\n", "plugin.version.invalid", 4, 33, "'=>1' is not a version", '">=1.2.3"'),
    ("plugin too old", "plugins:\n  - {name: pioreactor, version: '>=999'}\n", "plugin.version.mismatch", 4, 33, "needs pioreactor >=999", "install a version"),
    ("unknown name", "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0s, if: '${{ treshold > 1 }}'}\n", "expression.unknown_name", 7, 41, "treshold is not an input", "inputs"),
    ("renamed job", "common:\n  jobs:\n    led_control:\n      actions:\n        - {type: start, t: 0s, options: {automation_name: silent}}\n", "job.renamed", 5, 5, "led_control is now called led_automation", "rename it"),
]


@pytest.mark.parametrize(("what", "body", "code", "line", "column", "message", "hint"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_has_its_message_line_column_and_hint(
    catalog: Catalog, what: str, body: str, code: str, line: int, column: int, message: str, hint: str
) -> None:
    # a body that starts like a profile is the whole file; the others follow HEAD (two lines)
    text = body if body.startswith(("version", "common: {}")) else HEAD + body
    found = problems_of(text, catalog)
    matching = [p for p in found if p[0] == code]
    assert matching, f"no {code} among {found}"
    got_code, got_line, got_column, got_message, got_hint, _ = matching[0]
    assert message in got_message, got_message
    assert hint in got_hint, got_hint
    assert (got_line, got_column) == (line, column), f"{got_message} at {got_line}:{got_column}"


def test_every_kind_of_mistake_has_a_code_of_its_own() -> None:
    codes = [code for _, _, code, *_ in MISTAKES]
    repeated = {c for c in codes if codes.count(c) > 1}
    assert repeated <= {"schema.unknown_field", "time.invalid", "job.unknown_option", "job.ordering.before_start"}


def test_both_formats_and_the_example_profiles_verify(catalog: Catalog) -> None:
    for path in sorted(PROFILES.glob("*.yaml")):
        _, problems, _ = check_text(path.read_text(), path.name, catalog)
        errors = [p.format() for p in problems if p.severity == "error"]
        if path.name == "plugin_action.yaml":  # its action type and function come from a test plugin
            assert {p.code for p in problems if p.severity == "error"} == {"action.type.unknown", "expression.unknown_function"}
            continue
        assert errors == [], path.name
    _, problems, _ = check_text((PROFILES / "older_format.yaml").read_text(), "older_format.yaml", catalog)
    assert [p.code for p in problems] == ["job.renamed"]
    _, problems, _ = check_text((PROFILES / "every_action.yaml").read_text(), "every_action.yaml", catalog)
    assert [(p.code, p.line) for p in problems] == [("repeat.unreachable_action", 53)]


def test_verify_prints_problems_with_positions_and_exits_non_zero(pio, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        HEAD
        + "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 5 minutes\n"
        + "          options: {target_rmp: 300}\n        - {type: update, t: 1h, hours_elapsed: 1}\n"
    )
    result = pio("run", "experiment_profile", "verify", str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"{broken}:8:14: error: t: '5 minutes' is not a duration [time.invalid]" in out
    assert "    8 |           t: 5 minutes\n      |              ^\n" in out
    assert "      hint: a number of hours (0.5) or a number with a unit: 30s, 2m, 1.5h, 2d" in out
    assert f"{broken}:9:21: error: stirring has no option 'target_rmp' [job.unknown_option]" in out
    assert f"{broken}:10:33: error: this update action has both t and hours_elapsed [action.time.conflict]" in out
    assert "3 error(s), 0 warning(s)." in result.stderr

    # a valid profile: a summary, exit 0; its warnings count only with --strict
    ok = pio("run", "experiment_profile", "verify", str(PROFILES / "older_format.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert "warning: led_control is now called led_automation [job.renamed]" in ok.stdout
    assert "profile 'older format' is valid (older format, 8 action(s) for every unit (common)), with 1 warning(s)." in ok.stdout
    strict = pio("run", "experiment_profile", "verify", "--strict", str(PROFILES / "older_format.yaml"))
    assert strict.returncode == 1

    # execute refuses a broken profile before doing anything
    refused = pio("run", "experiment_profile", "execute", str(broken), "--experiment", "exp1")
    assert refused.returncode == 1 and "not executed: fix the error(s) above" in refused.stderr


def test_dry_run_prints_the_timeline(pio, pio_home) -> None:
    result = pio("run", "experiment_profile", "execute", str(PROFILES / "every_action.yaml"), "--experiment", "exp1", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Dry run of profile 'every action' ({PROFILES / 'every_action.yaml'}) in experiment 'exp1': nothing is started."
    rows = [" ".join(line.split()) for line in lines[3:] if line]
    unit = pio_home.unit
    assert rows[:4] == [
        f"0s 1 {unit} stirring start: pio run stirring --target-rpm 400",
        f"1h 15 {unit} led_automation start: pio run led_automation --automation-name silent --duration 600",
        f"4h 2 {unit} stirring update target_rpm=${{{{ ::stirring:target_rpm + 2 ** 2 * 25 }}}}",
        f"8h 3 {unit} stirring pause",
    ]
    assert f"16h 6 {unit} stirring repeat every 8h, up to 32h: 4 loop(s) [while ${{{{ ::stirring:target_rpm < 600 }}}}]" in rows
    assert f"17h 10 {unit} stirring when: wait until ${{{{ ::stirring:target_rpm >= 520 }}}}" in rows
    assert f"30h 13 {unit} stirring update target_rpm=1 [if false]" in rows
    assert rows[-3:] == [
        f"(when)+0s 11 {unit} stirring log (warning): target reached: ${{{{ ::stirring:target_rpm }}}}",
        f"(when)+1m 12 {unit} stirring update target_rpm=700 [if ${{{{ random() < 2 and (1 + 1 == 2) and -1.5 / -2.0 == 0.75 }}}} = true]",
        "The profile runs until its when conditions hold and its repeats end (or until it is stopped).",
    ]
    assert "never" not in result.stdout  # the unreachable child is not on the timeline
    assert "warning: this log at 9h never runs" in result.stderr


def test_the_published_schema_is_the_one_in_the_package() -> None:
    docs = Path(__file__).parent.parent / "docs" / "profile-schema.json"
    package = Path(__file__).parent.parent / "plugins_core" / "profiles" / "schema.json"
    assert docs.read_text() == package.read_text(), "copy plugins_core/profiles/schema.json to docs/profile-schema.json"


def test_runs_are_recorded_through_the_data_plane(catalog: Catalog) -> None:
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.data import DatabaseTableRegistry, MqttSinkRegistry
    from pioreactor.plugins_core.profiles.records import profile_run

    host = get_plugin_host()
    assert host.registry(DatabaseTableRegistry).entries["experiment_profile_runs"].plugin == "profiles"
    assert host.registry(MqttSinkRegistry).entries["experiment_profile_runs"].topics == ("pioreactor/+/+/experiment_profile/+/experiment_profile_name",)
    row = profile_run("pioreactor/unit1/exp1/experiment_profile/ab12cd/experiment_profile_name", b"demo")
    assert row is not None and row.pop("started_at").endswith("Z")
    assert row == {"run_id": "ab12cd", "experiment": "exp1", "pioreactor_unit": "unit1", "experiment_profile_name": "demo"}


def test_profiles_cannot_override_paths_or_the_broker(catalog: Catalog) -> None:
    for override in ("logging: {log_file: /etc/cron.d/x}", "mqtt: {broker_address: evil.example}", '"storage.database": /tmp/x'):
        text = HEAD + f"common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          config_overrides: {{{override}}}\n"
        codes = [(p[0], p[3]) for p in problems_of(text, catalog)]
        assert any(code == "start.config_overrides.protected" and "profiles cannot change" in message for code, message in codes), codes
    fine = HEAD + "common:\n  jobs:\n    stirring:\n      actions:\n        - type: start\n          t: 0s\n          config_overrides: {stirring.config: {pwm_hz: 100}}\n"
    assert [p for p in problems_of(fine, catalog) if p[5] == "error"] == []


def test_a_deeply_nested_expression_is_a_clear_error(pio, pio_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    deep = "-" * 20000 + "1"
    profile = tmp_path / "deep.yaml"
    profile.write_text(HEAD + f"common:\n  jobs:\n    stirring:\n      actions:\n        - {{type: start, t: 0s, if: '${{{{ {deep} > 0 }}}}'}}\n")
    result = pio("run", "experiment_profile", "verify", str(profile))
    assert result.returncode == 1 and "nests more than 100 operators deep" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_a_profile_unit_name_must_be_a_topic_level(catalog: Catalog) -> None:
    text = HEAD + "pioreactors:\n  'worker/1':\n    jobs: {}\n"
    assert any(p[0] == "unit.invalid_name" for p in problems_of(text, catalog))
