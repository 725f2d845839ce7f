"""Plugins written for upstream Pioreactor: they import upstream's names, load without our hooks,
and run on the simulator (settings over MQTT, logs under the plugin's name, PWM, clean stop).

The fixture plugins in tests/fixtures/upstream/ are written the way upstream's docs and
templates teach; they are installed into a folder on PYTHONPATH (``upstream_site``).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from pioreactor.sdk.testing import MqttProbe, PioHome

UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"
PACKAGES = ("pioreactor-switch", "pioreactor-bubbles", "pioreactor-logs2webhook", "pioreactor-old-dosing")
SWITCH_CONFIG = "[PWM]\n3=switch\n4=bubbler\n\n[switch.config]\npre_delay_duration=1\npost_delay_duration=1\nenable_dodging_od=1\nstart_on=1\n\n"
BUBBLER_CONFIG = "[bubbler.config]\nduty_cycle=50\nhertz=100\nenable_dodging_od=0\nrest_duration=30\n\n"

# what the eight published upstream plugins import (docs/plugins/upstream.md lists them)
SURFACE = {
    "pioreactor.background_jobs.base": [
        "BackgroundJob", "BackgroundJobContrib", "BackgroundJobWithDodgingContrib", "LongRunningBackgroundJobContrib",
    ],
    "pioreactor.background_jobs.monitor": ["Monitor"],
    "pioreactor.background_jobs.temperature_automation": ["TemperatureAutomationJob"],
    "pioreactor.automations.base": ["AutomationJob"],
    "pioreactor.automations.events": ["UpdatedHeaterDC", "DilutionEvent", "NoEvent", "ChangedLedIntensity"],
    "pioreactor.automations.dosing.base": ["DosingAutomationJobContrib"],
    "pioreactor.automations.led.base": ["LEDAutomationJobContrib"],
    "pioreactor.automations.temperature.base": ["TemperatureAutomationJobContrib"],
    "pioreactor.automations.temperature.thermostat": ["Thermostat"],
    "pioreactor.cli.run": ["run"],
    "pioreactor.cli.calibrations": ["calibration"],
    "pioreactor.config": ["config"],
    "pioreactor.hardware": ["get_pwm_to_pin_map", "is_i2c_device_present", "get_heater_pwm_channel", "get_scl_pin"],
    "pioreactor.utils": [
        "clamp", "managed_lifecycle", "is_pio_job_running", "local_intermittent_storage", "local_persistent_storage", "whoami",
    ],
    "pioreactor.utils.pwm": ["PWM"],
    "pioreactor.utils.timing": ["RepeatedTimer", "current_utc_datetime", "current_utc_timestamp", "current_utc_datestamp"],
    "pioreactor.utils.networking": ["get_ip", "resolve_to_address"],
    "pioreactor.utils.streaming_calculations": ["PID"],
    "pioreactor.utils.mock": ["MockTMP1075"],
    "pioreactor.whoami": [
        "get_unit_name", "get_assigned_experiment_name", "UNIVERSAL_EXPERIMENT", "NO_EXPERIMENT",
        "get_latest_experiment_name", "get_pioreactor_model", "get_testing_experiment_name", "is_testing_env",
    ],
    "pioreactor.pubsub": ["publish", "subscribe", "get_from", "post_into"],
    "pioreactor.mureq": ["post", "get"],
    "pioreactor.logging": ["create_logger", "CustomLogger"],
    "pioreactor.types": ["PublishableSetting", "PwmChannel", "MQTTMessage"],
    "pioreactor.structs": ["ODFiltered", "GrowthRate", "Temperature", "MeasuredRPM", "ODReadings", "DosingEvent", "ODFused", "EstimatorBase"],
    "pioreactor.exc": ["HardwareNotFoundError"],
    "pioreactor.error_codes": ["PCB_TEMPERATURE_TOO_HIGH"],
    "pioreactor.cluster_management": ["get_workers_in_inventory"],
    "pioreactor.calibrations.utils": ["curve_to_functional_form"],
    "pioreactor.calibrations.registry": ["CalibrationProtocol"],
    "pioreactor.calibrations.session_flow": ["SessionContext", "SessionStep", "StepRegistry", "fields", "steps"],
    "pioreactor.calibrations.structured_session": ["CalibrationSession", "utc_iso_timestamp"],
    "pioreactor.actions.self_test": ["register_self_tests"],
    "pioreactor.estimators": ["ESTIMATOR_PATH"],
    "pioreactor.plugin_management": ["get_plugins"],
}


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_upstream_names_import(module: str, pio_home: PioHome) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in SURFACE[module] if not hasattr(imported, name)]
    assert missing == []


def test_config_reads_like_upstreams(pio_home: PioHome) -> None:
    import configparser

    from pioreactor.config import config

    pio_home.write_config("[PWM]\n3=switch\n\n[switch.config]\nstart_on=0\n")
    assert config.get("PWM_reverse", "switch") == "3"
    assert config.getboolean("switch.config", "start_on", fallback=True) is False
    assert config.getboolean("switch.config", "missing", fallback=True) is True
    assert config["PWM"]["3"] == "switch" and "switch.config" in config
    with pytest.raises(configparser.NoOptionError):
        config.get("switch.config", "missing")
    with pytest.raises(configparser.NoSectionError):
        config.getfloat("nowhere", "x")


@pytest.fixture(scope="module")
def upstream_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("upstream_site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), *[str(UPSTREAM / p) for p in PACKAGES]],
        check=True, capture_output=True,
    )
    return target


@pytest.fixture
def upstream_env(upstream_site: Path, pio_home: PioHome) -> dict[str, str]:
    (pio_home.path / "plugins").mkdir(exist_ok=True)
    (pio_home.path / "plugins" / "naive_turbidostat.py").write_text((UPSTREAM / "naive_turbidostat.py").read_text())
    return {"PYTHONPATH": str(upstream_site)}


def test_upstream_plugins_load_register_and_say_what_is_removed(
    pio: Callable[..., subprocess.CompletedProcess[str]], upstream_env: dict[str, str], pio_home: PioHome
) -> None:
    pio_home.write_config(SWITCH_CONFIG + BUBBLER_CONFIG)
    result = pio("plugins", "list", "--json", env=upstream_env)
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {rows[n]["status"] for n in ("pioreactor_switch", "pioreactor_bubbles", "pioreactor_logs2webhook")} == {"loaded"}
    assert rows["naive_turbidostat"]["status"] == "loaded" and rows["naive_turbidostat"]["version"] == "0.1.0"
    assert rows["naive_turbidostat"]["author"] == "A Lab"
    assert "pioreactor.background_jobs.subjobs, which upstream removed in 2021" in rows["pioreactor_old_dosing"]["error"]

    result = pio("run", "--help", env=upstream_env)
    assert result.returncode == 0
    for job in ("switch", "bubbler", "logs2webhook"):
        assert f"\n  {job} " in result.stdout
    [line] = [line for line in result.stderr.splitlines() if "pioreactor_old_dosing" in line][:1]
    assert "Traceback" not in result.stderr and "DosingAutomationJobContrib" in line

    result = pio("run", "dosing_automation", "--automation-name", "naive_turbidostat", "--help", env=upstream_env)
    assert "--target-od TEXT" in result.stdout and "[required]" in result.stdout
    ui = json.loads(pio("plugins", "ui", "--json", env=upstream_env).stdout)
    [switch] = [job for job in ui["jobs"] if job["job_name"] == "switch"]
    assert switch["plugin"] == "pioreactor_switch" and switch["fields"][0]["key"] == "is_on"


def test_a_relay_like_plugin_runs_on_the_simulator(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, upstream_env: dict[str, str], pio_home: PioHome
) -> None:
    pio_home.write_config(SWITCH_CONFIG + BUBBLER_CONFIG)
    job = run_job("switch", env=upstream_env)
    job.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic("switch", "is_on"), "True")
    mqtt_probe.wait_for(pio_home.topic("switch", "enable_dodging_od"), "True")
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p) == {"16": 100.0})

    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("switch", "is_on", "set"), "false")
    mqtt_probe.wait_for(pio_home.topic("switch", "is_on"), "False", since=mark)
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p) == {"16": 0.0}, since=mark)
    log = mqtt_probe.wait_for(pio_home.topic("logs", "pioreactor_switch", "info"), lambda p: "is_on" in p, since=mark)
    assert json.loads(log.payload)["task"] == "switch"

    # a job on another channel runs alongside; one on the same channel is refused, naming both
    bubbler = run_job("bubbler", env=upstream_env)
    bubbler.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic("bubbler", "duty_cycle"), "50.0")
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("bubbler", "duty_cycle", "set"), "70")
    mqtt_probe.wait_for(pio_home.topic("bubbler", "duty_cycle"), "70", since=mark)  # the plugin rounds it
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p).get("12") == 70.0, since=mark)
    assert bubbler.stop() == 0

    pio_home.write_config(SWITCH_CONFIG.replace("3=switch\n4=bubbler", "3=bubbler") + BUBBLER_CONFIG)  # a bad edit of [PWM]
    clash = run_job("bubbler", env=upstream_env)
    assert clash.wait() != 0
    assert "PWM channel 3 (GPIO 16) is already driven by 'switch'" in clash.output()
    assert "'bubbler' cannot use it too" in clash.output()

    mark = mqtt_probe.mark()
    assert job.stop() == 0
    job.wait_for_state(mqtt_probe, "disconnected", since=mark)
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: "16" not in json.loads(p), since=mark)


class Webhook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    arrived = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        Webhook.arrived.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Webhook.received.clear()
    Webhook.arrived.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_logs_forwarder_posts_warnings_over_http(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, upstream_env: dict[str, str], pio_home: PioHome, webhook: str
) -> None:
    pio_home.write_config(f"[logs2webhook]\nwebhook_url={webhook}\nlog_level=WARNING\n")
    job = run_job("logs2webhook", env=upstream_env)
    mqtt_probe.wait_for(f"pioreactor/{pio_home.unit}/$experiment/logs2webhook/$state", "ready")
    payload = {"message": "the stirrer stalled", "level": "WARNING", "task": "stirring", "source": "app"}
    mqtt_probe.publish("pioreactor/worker9/exp1/logs/app/warning", json.dumps(payload))
    mqtt_probe.publish("pioreactor/worker9/exp1/logs/app/info", json.dumps(payload | {"level": "INFO"}))
    assert Webhook.arrived.wait(10)
    assert Webhook.received[0] == {"text": "[WARNING] [worker9] the stirrer stalled"}
    assert job.stop() == 0
    assert len(Webhook.received) == 1


def test_a_custom_dosing_automation_from_upstreams_docs_runs(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, upstream_env: dict[str, str], pio_home: PioHome
) -> None:
    job = run_job(
        "dosing_automation", "--automation-name", "naive_turbidostat", "--target-od", "1.5", "--duration", "60",
        env=upstream_env,
    )
    job.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic("dosing_automation", "automation_name"), "naive_turbidostat")
    mqtt_probe.wait_for(pio_home.topic("dosing_automation", "target_od"), "1.5")
    # execute() ran: it read latest_od, and with no od_reading running that is a clear error event
    event = mqtt_probe.wait_for(pio_home.topic("dosing_automation", "latest_event"), lambda p: "ErrorOccurred" in p)
    assert "od_reading" in json.loads(event.payload)["message"]
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("dosing_automation", "target_od", "set"), "2.5")
    mqtt_probe.wait_for(pio_home.topic("dosing_automation", "target_od"), "2.5", since=mark)
    assert job.stop() == 0


def test_packaged_ui_datasets_and_sql_become_registrations(tmp_path: Path) -> None:
    from pioreactor.plugins_core.upstream_compat.assets import export_datasets, sql_tables, ui_descriptors

    package = tmp_path / "pioreactor_things"
    (package / "ui" / "contrib" / "automations" / "dosing").mkdir(parents=True)
    (package / "ui" / "contrib" / "charts").mkdir(parents=True)
    (package / "exportable_datasets").mkdir()
    (package / "ui" / "contrib" / "automations" / "dosing" / "old.yaml").write_text(
        "name: My Old Automation\nkey: my_old\nfields:\n  - key: volume\n    default: 0.5\n    unit: mL\n    label: Volume\n"
    )
    (package / "ui" / "contrib" / "charts" / "t.yaml").write_text(
        "chart_key: things\ntitle: Things\nmqtt_topic: things/value\ndata_source: things\npayload_key: value\nlookback: 100\n"
    )
    (package / "exportable_datasets" / "things.yaml").write_text(
        "dataset_name: things\ndisplay_name: Things\ndescription: All things\ntable: things\nhas_unit: true\n"
        "has_experiment: true\ntimestamp_columns:\n  - timestamp\nsource: pioreactor_things\n"
    )
    (package / "additional_sql.sql").write_text("CREATE TABLE IF NOT EXISTS things (timestamp TEXT, value REAL);\n")

    descriptors = dict(ui_descriptors(package))
    assert descriptors["automation"] == {
        "automation_name": "my_old", "kind": "dosing", "display_name": "My Old Automation", "description": "",
        "fields": [{"key": "volume", "type": "float", "label": "Volume", "default": 0.5, "unit": "mL"}],
    }
    assert descriptors["chart"] == {
        "chart_key": "things", "title": "Things", "topic": "things/value", "payload_key": "value", "table": "things",
    }
    [(name, fields)] = list(export_datasets(package))
    assert name == "things" and fields["table"] == "things" and fields["timestamp_columns"] == ["timestamp"]
    assert [table for table, _ in sql_tables(package)] == ["things"]


def test_managed_lifecycle_and_one_off_pubsub(pio_home: PioHome, mqtt_probe: MqttProbe) -> None:
    from pioreactor import pubsub
    from pioreactor.utils import is_pio_job_running, managed_lifecycle

    with managed_lifecycle(pio_home.unit, pio_home.experiment, "shrinkage") as state:
        mqtt_probe.wait_for(pio_home.topic("shrinkage", "$state"), "ready")
        assert is_pio_job_running("shrinkage") is True
        state.publish_setting("progress", 0.5)
        mqtt_probe.wait_for(pio_home.topic("shrinkage", "progress"), "0.5")
        pubsub.publish(pio_home.topic("somewhere"), "hello", qos=1)
        mqtt_probe.wait_for(pio_home.topic("somewhere"), "hello")
    mqtt_probe.wait_for(pio_home.topic("shrinkage", "$state"), "disconnected")
    assert is_pio_job_running("shrinkage") is False


def test_the_plugin_template_ships_inside_the_package() -> None:
    import importlib.util

    spec = importlib.util.find_spec("pioreactor.plugin_template")
    assert spec is not None and spec.submodule_search_locations
    assert any((Path(folder) / "cookiecutter.json").is_file() for folder in spec.submodule_search_locations)


def test_an_upstream_temperature_automation_keeps_the_sdk_jobs_behaviour(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:
    """The plugin's class sits on top of the temperature plugin's job: sleeping still switches
    the heater off (upstream's no-op hooks must not hide the SDK job's own)."""
    (pio_home.path / "plugins").mkdir(exist_ok=True)
    (pio_home.path / "plugins" / "constant_heat.py").write_text((UPSTREAM / "constant_heat.py").read_text())
    job = run_job("temperature_automation", "--automation-name", "constant_heat", "--heat", "20")
    job.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic("temperature_automation", "heater_duty_cycle"), "20.0", timeout=20)
    mark = mqtt_probe.mark()
    mqtt_probe.publish(pio_home.topic("temperature_automation", "$state", "set"), "sleeping")
    job.wait_for_state(mqtt_probe, "sleeping", since=mark)
    mqtt_probe.wait_for(pio_home.topic("temperature_automation", "heater_duty_cycle"), "0.0", since=mark)
    assert job.stop() == 0


def test_a_dodging_plugin_pauses_around_each_od_reading(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, upstream_env: dict[str, str], pio_home: PioHome
) -> None:
    pio_home.write_config(SWITCH_CONFIG.replace("pre_delay_duration=1", "pre_delay_duration=0.5")
                          .replace("post_delay_duration=1", "post_delay_duration=0.5") + BUBBLER_CONFIG)
    od = run_job("od_reading", "--interval", "4", env=upstream_env)
    od.wait_for_state(mqtt_probe, "ready", timeout=20)
    switch = run_job("switch", env=upstream_env)
    switch.wait_for_state(mqtt_probe, "ready")
    mark = mqtt_probe.mark()
    mqtt_probe.wait_for(pio_home.topic("switch", "currently_dodging_od"), "True", since=mark, timeout=15)
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p).get("16") == 0.0, since=mark)
    mqtt_probe.wait_for(pio_home.topic("switch", "currently_dodging_od"), "False", since=mark, timeout=10)
    mqtt_probe.wait_for(pio_home.topic("pwms", "dc"), lambda p: json.loads(p).get("16") == 100.0, since=mark)

    # dodging off over MQTT: continuous again, no more pauses
    mqtt_probe.publish(pio_home.topic("switch", "enable_dodging_od", "set"), "0")
    mqtt_probe.wait_for(pio_home.topic("switch", "enable_dodging_od"), "False", since=mark)
    assert switch.stop() == 0 and od.stop() == 0


def test_a_plugin_that_raises_the_temperature_limits_is_honoured(
    run_job: Callable[..., Any], mqtt_probe: MqttProbe, pio_home: PioHome,
    pio: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    refused = pio("run", "temperature_automation", "--automation-name", "thermostat", "--target-temperature", "70")
    assert refused.returncode != 0 and "between 0 and 50" in refused.stdout + refused.stderr
    (pio_home.path / "plugins").mkdir(exist_ok=True)
    (pio_home.path / "plugins" / "hotter.py").write_text((UPSTREAM / "hotter.py").read_text())
    job = run_job("temperature_automation", "--automation-name", "thermostat", "--target-temperature", "70")
    job.wait_for_state(mqtt_probe, "ready")
    mqtt_probe.wait_for(pio_home.topic("temperature_automation", "target_temperature"), "70.0")
    assert job.stop() == 0
