"""The one registry mechanism: keying, collisions naming both plugins, reserved names, rollback,
and the table from registration hooks to their registry classes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pioreactor.kernel import hookspecs
from pioreactor.kernel.errors import JobNotFoundError, RegistrationError
from pioreactor.kernel.plugins import hook_for
from pioreactor.kernel.registries import Registry, load_target
from pioreactor.kernel.registries.targets import AutomationRegistry, CommandRegistry, JobDefinitions
from pioreactor.sdk.testing import reset_process_state


def test_every_registration_hook_names_a_registry_class_that_names_it_back() -> None:
    specs = {name for name in dir(hookspecs) if name.startswith("pioreactor_register_")}
    assert specs == set(hookspecs.REGISTRATION_HOOKS)
    for hook_name, target in hookspecs.REGISTRATION_HOOKS.items():
        registry_class = load_target(target)
        assert issubclass(registry_class, Registry)
        assert hook_for(registry_class) == hook_name


def test_a_collision_names_both_plugins_and_keeps_the_first() -> None:
    jobs = JobDefinitions()
    jobs.scoped("a").add("brew", "pkg.mod:Brew", summary="first")
    with pytest.raises(RegistrationError, match="job 'brew' is registered by both plugin 'a' and plugin 'b'"):
        jobs.scoped("b").add("brew", "other.mod:Brew")
    assert jobs.get("brew").plugin == "a" and jobs.get("brew").summary == "first"


def test_composite_keys_collide_only_within_their_kind() -> None:
    automations = AutomationRegistry()
    automations.scoped("a").add("dosing", "chemostat", "pkg.mod:Chemostat")
    automations.scoped("b").add("led", "chemostat", "pkg.mod:LedChemostat")  # another kind: fine
    with pytest.raises(RegistrationError, match="dosing automation 'chemostat' is registered by both plugin 'a'"):
        automations.scoped("b").add("dosing", "chemostat", "other:Chemostat")
    assert set(automations.of_kind("dosing")) == {"chemostat"}
    with pytest.raises(JobNotFoundError, match="no led automation named 'chemostt'. Did you mean: chemostat"):
        automations.get("led", "chemostt")


def test_names_and_targets_are_checked_before_anything_is_kept() -> None:
    jobs = JobDefinitions().scoped("a")
    with pytest.raises(RegistrationError, match="plugin 'a' registered the job name 'Brew'"):
        jobs.add("Brew", "pkg.mod:Brew")
    with pytest.raises(RegistrationError, match="expected 'package.module:Attribute'"):
        jobs.add("brew", "pkg.mod.Brew")
    assert jobs.names() == []


def test_reserved_names_say_who_reserved_them() -> None:
    jobs = JobDefinitions()
    with pytest.raises(RegistrationError, match="'logs', a name reserved by pio itself"):
        jobs.scoped("a").add("logs", "pkg.mod:Logs")
    jobs.scoped("leds").reserve("led_change_events")
    with pytest.raises(RegistrationError, match="a name reserved by plugin 'leds'"):
        jobs.scoped("b").add("led_change_events", "pkg.mod:Events")
    with pytest.raises(RegistrationError, match="reserved by pio itself"):
        CommandRegistry().scoped("a").add("run", "pkg.mod:run")


def test_rollback_forgets_everything_a_plugin_added_or_reserved() -> None:
    jobs = JobDefinitions()
    jobs.scoped("keep").add("stirring", "pkg.stir:Stirrer")
    broken = jobs.scoped("broken")
    broken.add("brew", "pkg.mod:Brew")
    broken.reserve("brew_events")
    jobs.rollback("broken")
    assert jobs.names() == ["stirring"]
    jobs.scoped("other").add("brew_events", "pkg.mod:Events")  # free again


def test_adding_without_a_plugin_is_refused() -> None:
    with pytest.raises(RegistrationError, match="registry.scoped"):
        JobDefinitions().add("brew", "pkg.mod:Brew")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PIO_HOME", str(tmp_path))
    monkeypatch.delenv("PIO_STRICT_PLUGINS", raising=False)
    (tmp_path / "plugins").mkdir()
    reset_process_state()
    yield tmp_path
    reset_process_state()


def write_plugin(home: Path, name: str, hooks: dict[str, list[str]], extra: str = "") -> None:
    """``$PIO_HOME/plugins/<name>.py`` implementing each hook (name -> lines of its body)."""
    source = "from pioreactor.sdk import hookimpl\n"
    for hook, body in hooks.items():
        source += f"\n\n@hookimpl\ndef {hook}(registry):\n" + "".join(f"    {line}\n" for line in body)
    (home / "plugins" / f"{name}.py").write_text(source + extra)


def test_a_plugin_whose_hook_raises_leaves_none_of_its_entries_behind(home: Path) -> None:
    write_plugin(
        home,
        "half_done",
        {
            "pioreactor_register_jobs": [
                "registry.add('brew', 'somewhere.brew:Brew')",
                "registry.reserve('brew_events')",
                "raise RuntimeError('the second half failed')",
            ]
        },
    )
    from pioreactor.kernel.plugins import get_plugin_host

    host = get_plugin_host()
    jobs = host.registry(JobDefinitions)
    assert "brew" not in jobs and "brew_events" not in jobs.reserved
    assert "stirring" in jobs  # every other plugin registered
    failed = host.by_name("half_done")
    assert failed is not None and not failed.loaded
    assert failed.error == "pioreactor_register_jobs: RuntimeError: the second half failed"


SPEC_PLUGIN = """
from pioreactor.sdk import hookimpl, hookspec


class BrewHooks:
    @hookspec
    def pioreactor_brew_started(self, volume_ml):
        '''A brew started.'''


@hookimpl
def pioreactor_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(BrewHooks)
"""

IMPL_PLUGIN = """
from pioreactor.sdk import hookimpl

seen = []


@hookimpl
def pioreactor_brew_started(volume_ml):
    seen.append(volume_ml)
"""


@pytest.mark.parametrize("spec_file, impl_file", [("a_spec", "b_impl"), ("z_spec", "b_impl")])
def test_a_plugin_adds_hooks_that_other_plugins_implement(home: Path, spec_file: str, impl_file: str) -> None:
    # whichever registers first, the implementation is accepted once the spec is added
    (home / "plugins" / f"{spec_file}.py").write_text(SPEC_PLUGIN)
    (home / "plugins" / f"{impl_file}.py").write_text(IMPL_PLUGIN)
    from pioreactor.kernel.plugins import get_plugin_host

    host = get_plugin_host()
    assert host.failed == []
    host.pm.hook.pioreactor_brew_started(volume_ml=2.5)
    assert sys.modules[f"pioreactor_local_plugin_{impl_file}"].seen == [2.5]


def test_a_hook_nobody_declared_is_still_a_typo(home: Path) -> None:
    (home / "plugins" / "typo.py").write_text(IMPL_PLUGIN)
    from pioreactor.kernel.plugins import get_plugin_host

    failed = get_plugin_host().by_name("typo")
    assert failed is not None and not failed.loaded and "unknown hooks ['pioreactor_brew_started']" in str(failed.error)


def test_a_time_series_declared_once_gives_its_table_sink_dataset_and_chart(home: Path) -> None:
    declaration = (
        "registry.add('dissolved_oxygen', topics='pioreactor/+/+/oxygen_probe/saturation', "
        "parser='pioreactor_local_plugin_oxygen:parse', columns={'saturation': 'REAL NOT NULL'}, "
        "units={'saturation': '%'}, description='Dissolved oxygen. Every minute.', "
        "chart={'chart_key': 'oxygen', 'topic': 'oxygen_probe/saturation', 'column': 'saturation'})"
    )
    write_plugin(
        home, "oxygen", {"pioreactor_register_timeseries": [declaration]}, "\n\ndef parse(topic, payload):\n    return None\n"
    )
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.data import (
        DatabaseTableRegistry,
        ExportDatasetRegistry,
        MqttSinkRegistry,
    )
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry

    host = get_plugin_host()
    table = host.registry(DatabaseTableRegistry).get("dissolved_oxygen")
    assert table.plugin == "oxygen" and table.summary == "Dissolved oxygen"
    assert "saturation REAL NOT NULL, UNIQUE (experiment, timestamp, pioreactor_unit))" in table.migrations[0]
    sink = host.registry(MqttSinkRegistry).get("dissolved_oxygen")
    assert sink.topics == ("pioreactor/+/+/oxygen_probe/saturation",) and sink.table == "dissolved_oxygen"
    dataset = host.registry(ExportDatasetRegistry).get("dissolved_oxygen")
    assert dataset.column_units == {"saturation": "%"} and dataset.timestamp_columns == ("timestamp",)
    chart = host.registry(UiDescriptorRegistry).entries[("chart", "oxygen")]
    assert chart.plugin == "oxygen" and chart.data["table"] == "dissolved_oxygen"
    # the core plugins declare theirs the same way, the dosing tables by the plugins that own them
    assert host.registry(DatabaseTableRegistry).get("dosing_events").plugin == "pumps"
    assert host.registry(DatabaseTableRegistry).get("liquid_volumes").plugin == "dosing"


def test_a_time_series_that_collides_with_a_table_leaves_nothing_of_its_plugin(home: Path) -> None:
    write_plugin(
        home,
        "clash",
        {
            "pioreactor_register_timeseries": [
                "registry.add('mine', topics='pioreactor/+/+/x/y', parser='m:f', columns={'v': 'REAL'})",
                "registry.add('od_readings', topics='pioreactor/+/+/x/z', parser='m:f', columns={'v': 'REAL'})",
            ]
        },
    )
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.data import DatabaseTableRegistry

    host = get_plugin_host()
    tables = host.registry(DatabaseTableRegistry)
    assert tables.get("od_readings").plugin == "od_reading" and "mine" not in tables
    failed = host.by_name("clash")
    assert failed is not None and "time series 'od_readings' is registered by both plugin 'od_reading'" in str(failed.error)


def test_a_plugin_that_fails_in_a_later_registry_is_taken_out_of_the_earlier_ones(home: Path) -> None:
    # its time series is fine, but its own table collides with the data plugin's logs table
    write_plugin(
        home,
        "late",
        {
            "pioreactor_register_timeseries": [
                "registry.add('mine', topics='pioreactor/+/+/x/y', parser='m:f', columns={'v': 'REAL'})"
            ],
            "pioreactor_register_database_tables": ["registry.add('logs', migrations='CREATE TABLE logs (x)')"],
        },
    )
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.data import DatabaseTableRegistry
    from pioreactor.kernel.registries.timeseries import TimeseriesRegistry

    host = get_plugin_host()
    assert "mine" in host.registry(TimeseriesRegistry)  # built first: the plugin looks fine
    tables = host.registry(DatabaseTableRegistry)
    assert tables.get("logs").plugin == "data" and "mine" not in tables
    assert "mine" not in host.registry(TimeseriesRegistry)  # and it is gone from there too
    failed = host.by_name("late")
    assert failed is not None and not failed.loaded


def test_the_sdk_reads_any_registry_by_its_hook_name(home: Path) -> None:
    from pioreactor.sdk.plugins import registered

    assert registered("pioreactor_register_timeseries").get("od_readings").plugin == "od_reading"
    assert "stirring" in registered("pioreactor_register_jobs")
    with pytest.raises(ValueError, match="'pioreactor_register_job' is not a registration hook"):
        registered("pioreactor_register_job")


def test_a_charts_series_are_named_by_the_time_series_key(home: Path) -> None:
    # a probe of several gases: one key column, so one series per unit and gas, drawn as points
    declaration = (
        "registry.add('gas_events', topics='pioreactor/+/+/gas_events', parser='m:f', "
        "columns={'ppm': 'REAL', 'gas': 'TEXT'}, key=['gas'], "
        "chart={'chart_key': 'gas', 'topic': 'gas_events', 'column': 'ppm', 'interpolation': 'points'})"
    )
    write_plugin(home, "gas", {"pioreactor_register_timeseries": [declaration]})
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry

    charts = get_plugin_host().registry(UiDescriptorRegistry)
    gas = charts.entries[("chart", "gas")]
    assert (gas.data["series_key"], gas.data["interpolation"]) == ("gas", "points")
    # the core charts the same way: LEDs by channel, doses by event
    assert charts.entries[("chart", "led_intensities")].data["series_key"] == "channel"
    doses = charts.entries[("chart", "dosing_events")].data
    assert (doses["series_key"], doses["interpolation"], doses["table"]) == ("event", "points", "dosing_events")
    assert "series_key" not in charts.entries[("chart", "temperature")].data


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (
            "'interpolation': 'bars'",
            "'interpolation' must be one of linear, stepAfter, points (linear for measurements, "
            "stepAfter for values that hold until they change, points for events), got 'bars'",
        ),
        ("'series_key': 'timestamp'", "'series_key' is the payload field and column that names a series within a unit"),
        ("'series_key': 'colour'", "chart's series_key 'colour' is not one of its columns (ppm, gas)"),
    ],
)
def test_a_bad_chart_fails_its_plugin_naming_the_value(home: Path, chart: str, message: str) -> None:
    declaration = (
        "registry.add('gas_events', topics='pioreactor/+/+/gas_events', parser='m:f', "
        f"columns={{'ppm': 'REAL', 'gas': 'TEXT'}}, chart={{'chart_key': 'gas', 'topic': 'gas_events', {chart}}})"
    )
    write_plugin(home, "gas", {"pioreactor_register_timeseries": [declaration]})
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.timeseries import TimeseriesRegistry

    host = get_plugin_host()
    assert "gas_events" not in host.registry(TimeseriesRegistry)
    failed = host.by_name("gas")
    assert failed is not None and message in str(failed.error)
