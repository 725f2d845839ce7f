"""Third-party plugins: a package, a single file, a broken one; and the switches."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pioreactor.sdk.testing import PioHome

SINGLE_FILE_PLUGIN = '''
import click
from pioreactor.sdk import BackgroundJob, hookimpl

__plugin_version__ = "0.0.7"
__plugin_author__ = "A Lab"


class Greeter(BackgroundJob):
    job_name = "greeter"
    published_settings = {"volume": {"datatype": "float", "settable": True, "unit": "%"}}

    def __init__(self, unit: str, experiment: str, *, volume: float = 10.0) -> None:
        super().__init__(unit, experiment)
        self.volume = volume


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("greeter", "pioreactor_local_plugin_greeter:Greeter", summary="Greet from a single file")
'''


@pytest.fixture
def with_packages(installed_plugins: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(installed_plugins), os.environ.get("PYTHONPATH", "")]))}


def test_package_plugin_job_runs_through_pio_run(pio, run_job, mqtt_probe, pio_home: PioHome, with_packages) -> None:  # type: ignore[no-untyped-def]
    listing = pio("run", "--help", env=with_packages)
    assert listing.returncode == 0
    assert "hello" in listing.stdout and "Say hello" in listing.stdout

    help_text = pio("run", "hello", "--help", env=with_packages).stdout
    assert "--greeting TEXT" in help_text and "What to say." in help_text and "[default: hi]" in help_text

    job = run_job("hello", "--greeting", "bonjour", env=with_packages)
    job.wait_for_state(mqtt_probe, "ready")
    assert mqtt_probe.wait_for(pio_home.topic("hello", "greeting")).payload == "bonjour!"  # config default
    assert mqtt_probe.wait_for(pio_home.topic("hello", "times_greeted")).payload == "1"
    mqtt_probe.publish(pio_home.topic("hello", "greeting", "set"), "salut")
    mqtt_probe.wait_for(pio_home.topic("hello", "greeting"), "salut")
    assert job.stop() == 0


def test_click_command_target_runs(pio, with_packages) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "hello_once", "--name", "lab", env=with_packages)
    assert result.returncode == 0 and result.stdout.strip() == "hello, lab!"  # sees plugin config defaults


def test_broken_plugin_is_quarantined_and_everything_else_works(pio, with_packages) -> None:  # type: ignore[no-untyped-def]
    for args in (("--help",), ("run", "--help"), ("version",)):
        result = pio(*args, env=with_packages)
        assert result.returncode == 0, result.stderr
    run_help = pio("run", "--help", env=with_packages)
    lines = [line for line in run_help.stderr.splitlines() if "broken" in line]
    assert len(lines) == 1
    assert "ModuleNotFoundError" in lines[0] and "a_module_that_is_not_installed" in lines[0]
    assert "stirring" in run_help.stdout

    listed = json.loads(pio("plugins", "list", "--json", env=with_packages).stdout)
    by_name = {row["name"]: row for row in listed}
    assert by_name["broken"]["status"] == "failed"
    assert "a_module_that_is_not_installed" in by_name["broken"]["error"]
    assert by_name["hello"]["status"] == "loaded" and by_name["hello"]["source"] == "package"
    assert by_name["hello"]["version"] == "0.3.1" and by_name["hello"]["author"] == "Test Lab"
    assert by_name["stirring"]["source"] == "core"


def test_single_file_plugin_runs(pio, run_job, mqtt_probe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "greeter.py").write_text(SINGLE_FILE_PLUGIN)
    assert "Greet from a single file" in pio("run", "--help").stdout
    job = run_job("greeter", "--volume", "3.5")
    job.wait_for_state(mqtt_probe, "ready")
    assert mqtt_probe.wait_for(pio_home.topic("greeter", "volume")).payload == "3.5"
    listed = {row["name"]: row for row in json.loads(pio("plugins", "list", "--json").stdout)}
    assert listed["greeter"]["source"] == "file" and listed["greeter"]["version"] == "0.0.7"
    assert job.stop() == 0


def test_broken_single_file_plugin_and_new_files_are_noticed(pio, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    plugins = pio_home.path / "plugins"
    plugins.mkdir()
    assert pio("run", "--help").returncode == 0  # builds the plugin index
    (plugins / "typo.py").write_text("from pioreactor.sdk import hookimpl\n\n@hookimpl\ndef pioreactor_register_jobz(registry):\n    pass\n")
    (plugins / "crash.py").write_text("raise RuntimeError('boom at import')\n")
    result = pio("run", "--help")
    assert result.returncode == 0
    assert "RuntimeError: boom at import" in result.stderr
    assert "unknown hooks ['pioreactor_register_jobz']" in result.stderr


def test_skip_and_disable_switches(pio, with_packages) -> None:  # type: ignore[no-untyped-def]
    skipped = pio("run", "--help", env=with_packages | {"PIO_SKIP_PLUGINS": "1"})
    assert "hello" not in skipped.stdout and "stirring" in skipped.stdout and skipped.stderr == ""
    disabled = pio("run", "--help", env=with_packages | {"PIO_DISABLED_PLUGINS": "broken"})
    assert "hello" in disabled.stdout and "broken" not in disabled.stderr


def test_unknown_job_suggests_a_name(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "stiring")
    assert result.returncode == 2
    assert "no job named 'stiring'" in result.stderr and "Did you mean: stirring" in result.stderr


def test_allow_list_loads_only_the_named_plugins_and_the_essential_ones(pio, with_packages) -> None:  # type: ignore[no-untyped-def]
    result = pio("plugins", "list", "--json", env=with_packages | {"PIO_LOAD_PLUGINS": "stirring,hello"})
    assert result.returncode == 0, result.stderr
    names = {row["name"] for row in json.loads(result.stdout)}
    assert names == {"stirring", "hello", "simulator", "hardware_rpi"}  # broken is not even imported
    jobs = pio("run", "--help", env=with_packages | {"PIO_LOAD_PLUGINS": "stirring,hello"})
    assert "stirring" in jobs.stdout and "hello" in jobs.stdout and "od_reading" not in jobs.stdout
    assert jobs.stderr == ""


def test_non_essential_core_plugins_can_be_disabled_and_essential_ones_cannot(pio) -> None:  # type: ignore[no-untyped-def]
    result = pio("run", "--help", env={"PIO_DISABLED_PLUGINS": "od_reading,simulator"})
    assert result.returncode == 0
    assert "od_reading" not in result.stdout and "stirring" in result.stdout
    assert "plugin 'simulator' is essential" in result.stderr
    listed = pio("plugins", "list", "--json", env={"PIO_DISABLED_PLUGINS": "od_reading,simulator"})
    names = {row["name"] for row in json.loads(listed.stdout)}
    assert "od_reading" not in names and "simulator" in names
