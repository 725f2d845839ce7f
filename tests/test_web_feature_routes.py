"""The feature routes over real HTTP: ``pio run web_server`` on a free port, a real broker,
SQLite and the simulator. Profiles (validation with line:column), exports (downloaded and
unzipped), traversal attempts, time series, calibrations, descriptors, plugins."""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

GOOD_PROFILE = """\
experiment_profile_name: demo
metadata:
  author: tests
common:
  jobs:
    stirring:
      actions:
        - type: start
          hours_elapsed: 0.0
"""
# line 11 names a job option that stirring does not have
BAD_PROFILE = GOOD_PROFILE.replace("hours_elapsed: 0.0", "hours_elapsed: 0.0\n          options:\n            no_such_option: 3")
CALIBRATION = """\
calibration_type: simple_peristaltic_pump
calibration_name: cal_a
calibrated_on_pioreactor_unit: {unit}
created_at: 2026-01-01T00:00:00Z
curve_data_:
  type: poly
  coefficients: [0.1, 0.0]
recorded_data:
  x: [1.0, 2.0]
  y: [0.1, 0.2]
x: duration
y: volume
hz: 200.0
dc: 60.0
voltage: -1.0
"""


@dataclass
class Web:
    """The web_server fixture's client, with this test's PIO_HOME."""

    server: Any
    home: Any

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.server.request(method, path, json=body)

    def result(self, answer: Any, timeout: float = 60.0) -> dict[str, Any]:
        """Follow a 202 to the task's final record."""
        return self.server.wait_for_task(answer, timeout)


@pytest.fixture
def web(pio_home, web_server) -> Web:
    return Web(web_server, pio_home)


# -- experiment profiles -------------------------------------------------------------------------
def test_a_profile_saved_with_an_error_is_refused_with_its_line(web, pio):
    answer = web.call("POST", "/api/experiment_profiles", {"filename": "bad.yaml", "body": BAD_PROFILE})
    assert answer.status == 400
    error = answer.json()
    assert "bad.yaml:11:" in error["error"] and "no_such_option" in error["error"]
    (diagnostic,) = [d for d in error["diagnostics"] if d["severity"] == "error"]
    assert diagnostic["line"] == 11
    assert not (web.home.path / "experiment_profiles" / "bad.yaml").exists()
    # the same line:column as `pio run experiment_profile verify`
    (web.home.path / "check.yaml").write_text(BAD_PROFILE)
    verify = pio("run", "experiment_profile", "verify", str(web.home.path / "check.yaml"))
    assert f":{diagnostic['line']}:{diagnostic['column']}: error" in verify.stdout


def test_profiles_create_read_edit_list_delete(web):
    assert web.call("POST", "/api/experiment_profiles", {"filename": "demo.yaml", "body": GOOD_PROFILE}).status == 201
    assert web.call("POST", "/api/experiment_profiles", {"filename": "demo.yaml", "body": GOOD_PROFILE}).status == 409
    assert web.call("GET", "/api/experiment_profiles/demo.yaml").text == GOOD_PROFILE
    listed = web.call("GET", "/api/experiment_profiles").json()
    assert [(p["file"], p["experimentProfile"]["experiment_profile_name"]) for p in listed] == [("demo.yaml", "demo")]
    # an edit with an error leaves the file as it was
    refused = web.call("PATCH", "/api/experiment_profiles/demo.yaml", {"body": BAD_PROFILE})
    assert refused.status == 400 and refused.json()["diagnostics"][0]["line"] == 11
    assert web.call("GET", "/api/experiment_profiles/demo.yaml").text == GOOD_PROFILE
    edited = GOOD_PROFILE.replace("author: tests", "author: someone")
    assert web.call("PATCH", "/api/experiment_profiles/demo.yaml", {"body": edited}).status == 200
    assert "someone" in web.call("GET", "/api/experiment_profiles/demo.yaml").text
    # 25.11's paths reach the same files
    assert web.call("GET", "/api/contrib/experiment_profiles/demo.yaml").status == 200
    assert web.call("DELETE", "/api/experiment_profiles/demo.yaml").status == 200
    assert web.call("GET", "/api/experiment_profiles/demo.yaml").status == 404


# -- traversal ---------------------------------------------------------------------------------------
SECRET = "secret-token-in-config"

TRAVERSALS = [
    "..%2Fconfig.ini",
    "..%2F..%2Fconfig.ini",
    "%2e%2e%2fconfig.ini",
    "%252e%252e%252fconfig.ini",
    "..%5Cconfig.ini",
    "%2Fetc%2Fpasswd",
    ".hidden.yaml",
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_file_names_cannot_leave_their_folder(web, name):
    config = web.home.config_path
    config.write_text(config.read_text() + f"\n[secret]\ntoken={SECRET}\n")
    for method, path, body in [
        ("GET", f"/api/experiment_profiles/{name}", None),
        ("DELETE", f"/api/experiment_profiles/{name}", None),
        ("PATCH", f"/api/experiment_profiles/{name}", {"body": GOOD_PROFILE}),
        ("GET", f"/unit_api/calibrations/{name}", None),
        ("GET", f"/unit_api/calibrations/media_pump/{name}", None),
        ("DELETE", f"/unit_api/calibrations/media_pump/{name}", None),
        ("GET", f"/exports/{name}", None),
        ("GET", f"/api/datasets/exportable/{name}/preview", None),
    ]:
        answer = web.call(method, path, body)
        # a path that leaves /exports/ altogether (``//etc/passwd``) is the UI's index.html, never a file
        spa = path.startswith("/exports/") and answer.headers.get("Content-Type", "").startswith("text/html")
        assert answer.status in (400, 404) or spa, (method, path, answer.status)
        assert SECRET.encode() not in answer.body and b"root:" not in answer.body
    assert config.exists() and SECRET in config.read_text()


@pytest.mark.parametrize("filename", ["../escape.yaml", "/tmp/escape.yaml", "sub/escape.yaml", "..", "x.txt"])
def test_a_profile_cannot_be_saved_outside_its_folder(web, filename):
    answer = web.call("POST", "/api/experiment_profiles", {"filename": filename, "body": GOOD_PROFILE})
    assert answer.status == 400
    assert "filename" in answer.json()["error"] or "file name" in answer.json()["error"]
    assert not (web.home.path / "escape.yaml").exists()


def test_a_calibration_name_cannot_leave_its_folder(web):
    evil = CALIBRATION.format(unit=web.home.unit).replace("calibration_name: cal_a", "calibration_name: ../../evil")
    answer = web.call("POST", "/unit_api/calibrations/media_pump", {"calibration_data": evil})
    assert answer.status == 400
    assert not list(web.home.path.rglob("evil*"))


# -- exports -------------------------------------------------------------------------------------
def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _fill(home, unit: str, n: int, experiment: str = "exp1") -> None:
    from pioreactor.sdk.database import open_database

    conn = open_database()
    now = datetime.now(UTC)
    conn.execute("INSERT OR IGNORE INTO experiments (experiment, created_at) VALUES (?, ?)", (experiment, _stamp(now)))
    conn.executemany(
        "INSERT INTO growth_rates (experiment, pioreactor_unit, timestamp, rate) VALUES (?, ?, ?, ?)",
        [(experiment, unit, _stamp(now - timedelta(seconds=5 * i)), 0.01 * i) for i in range(n)],
    )
    conn.close()


def test_an_export_is_downloaded_and_unzipped(web):
    _fill(web.home, "unit1", 300)
    datasets = web.call("GET", "/api/datasets/exportable").json()
    assert "growth_rates" in [d["dataset_name"] for d in datasets]
    preview = web.call("GET", "/api/datasets/exportable/growth_rates/preview?n_rows=3").json()
    assert len(preview) == 3 and set(preview[0]) >= {"experiment", "pioreactor_unit", "timestamp", "rate"}
    body = {"experiment": "exp1", "datasets": ["growth_rates"], "partition_by_unit": False, "partition_by_experiment": True}
    task = web.result(web.call("POST", "/api/datasets/exportable/export", body))
    assert task["status"] == "succeeded", task
    filename = task["result"]["filename"]
    download = web.call("GET", f"/exports/{filename}")
    assert download.status == 200
    with zipfile.ZipFile(io.BytesIO(download.body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [d["rows"] for d in manifest["datasets"]] == [300]
        (csv_name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        assert len(archive.read(csv_name).decode().strip().splitlines()) == 301


def test_export_mistakes_are_named(web):
    answer = web.call("POST", "/api/datasets/exportable/export", {"experiment": "exp1", "datasets": ["nope"]})
    assert answer.status == 400 and "nope" in answer.json()["error"]
    answer = web.call("POST", "/api/datasets/exportable/export", {"datasets": ["logs"]})
    assert answer.status == 400 and "experiment" in answer.json()["error"]


# -- time series -------------------------------------------------------------------------------------
def test_a_large_time_series_is_down_sampled_to_target_points(web):
    _fill(web.home, "unit1", 30_000)
    _fill(web.home, "unit2", 30_000)
    answer = web.call("GET", "/api/experiments/exp1/time_series/growth_rates?target_points=720&lookback=100")
    assert answer.status == 200
    result = answer.json()
    assert result["series"] == ["unit1", "unit2"]
    assert [len(points) for points in result["data"]] == [720, 720]
    one = web.call("GET", "/api/workers/unit2/experiments/exp1/time_series/growth_rates/rate?target_points=50&lookback=100").json()
    assert one["series"] == ["unit2"] and len(one["data"][0]) == 50
    bad = web.call("GET", "/api/experiments/exp1/time_series/growth_rates?target_points=lots")
    assert bad.status == 400 and "target_points" in bad.json()["error"]
    missing = web.call("GET", "/api/experiments/exp1/time_series/nothing_here")
    assert missing.status == 404 and missing.json()["remediation"]


# -- calibrations --------------------------------------------------------------------------------------
def test_calibrations_through_unit_api_and_the_leader(web):
    unit = web.home.unit
    created = web.call("POST", "/unit_api/calibrations/media_pump", {"calibration_data": CALIBRATION.format(unit=unit)})
    assert created.status == 201
    assert web.call("GET", "/unit_api/calibrations").json()["media_pump"][0]["is_active"] is False
    assert web.call("PATCH", "/unit_api/active_calibrations/media_pump/cal_a").status == 200
    assert web.call("GET", "/unit_api/active_calibrations").json()["media_pump"]["calibration_name"] == "cal_a"
    task = web.result(web.call("GET", "/api/workers/$broadcast/calibrations"))
    assert task["status"] == "succeeded"
    assert task["result"][unit]["ok"] is True
    assert task["result"][unit]["value"]["media_pump"][0]["is_active"] is True
    protocols = web.call("GET", "/unit_api/calibration_protocols").json()
    assert {"media_pump", "stirring"} <= {p["target_device"] for p in protocols}
    with zipfile.ZipFile(io.BytesIO(web.call("GET", "/unit_api/zipped_calibrations").body)) as archive:
        assert archive.namelist() == ["media_pump/cal_a.yaml"]
    broken = web.call("POST", "/unit_api/calibrations/media_pump", {"calibration_data": "calibration_type: nonsense"})
    assert broken.status == 400 and broken.json()["cause"] == "calibration_data"
    session = web.call("POST", f"/api/workers/{unit}/calibrations/sessions", {"protocol_name": "duration_based"})
    assert session.status == 501 and "pio calibrations run" in session.json()["remediation"]
    assert web.call("DELETE", "/unit_api/calibrations/media_pump/cal_a").status == 200
    assert web.call("GET", "/unit_api/calibrations/media_pump/cal_a").status == 404


# -- descriptors and plugins ------------------------------------------------------------------------
def test_descriptors_in_upstreams_shape(web):
    jobs = {j["job_name"]: j for j in web.call("GET", "/api/jobs/descriptors").json()}
    assert {"stirring", "od_reading", "temperature_automation"} <= set(jobs)
    assert any(s["key"] == "target_rpm" and s["editable"] for s in jobs["stirring"]["published_settings"])
    automations = web.call("GET", "/api/automations/descriptors/temperature").json()
    assert "thermostat" in [a["automation_name"] for a in automations]
    charts = {c["chart_key"]: c for c in web.call("GET", "/api/charts/descriptors").json()}
    assert charts["temperature"]["data_source"] == "temperature_readings"
    # an LED's intensity holds until it changes: drawn as steps, from the change events
    assert (charts["led_intensities"]["data_source"], charts["led_intensities"]["interpolation"]) == ("led_change_events", "stepAfter")
    assert charts["temperature"]["interpolation"] == "linear"
    # doses: a marker each, every one of them, one series per unit and event
    doses = charts["dosing_events"]
    assert (doses["data_source"], doses["data_source_column"], doses["payload_key"]) == ("dosing_events", "volume_change_ml", "volume_change")
    assert (doses["interpolation"], doses["series_key"], doses["down_sample"]) == ("points", "event", False)
    assert (charts["led_intensities"]["series_key"], charts["temperature"]["down_sample"]) == ("channel", True)
    assert web.call("GET", "/api/contrib/jobs").json() == list(jobs.values())
    assert web.call("GET", f"/api/workers/{web.home.unit}/jobs/descriptors").status == 200


def test_every_automation_has_a_form_from_its_options(web):
    turbidostat = {a["automation_name"]: a for a in web.call("GET", "/api/automations/descriptors/dosing").json()}["turbidostat"]
    fields = {f["key"]: f for f in turbidostat["fields"]}
    # no plugin described it: the fields are its options, typed, with defaults, units and help
    assert list(fields) == ["exchange_volume_ml", "target_normalized_od", "target_od", "duration", "skip_first_run"]
    volume = fields["exchange_volume_ml"]
    assert (volume["label"], volume["unit"], volume["type"], volume["required"]) == ("Exchange volume", "mL", "numeric", True)
    assert fields["duration"]["default"] == 0.25 and fields["duration"]["unit"] == "min"
    assert fields["skip_first_run"]["type"] == "boolean" and fields["skip_first_run"]["default"] is False
    assert fields["target_od"]["label"] == "Target OD" and "[default" not in fields["target_od"]["description"]
    # a registered descriptor still names the fields; the class adds the options it left out
    cycle = {a["automation_name"]: a for a in web.call("GET", "/api/automations/descriptors/led").json()}["light_dark_cycle"]
    keys = [f["key"] for f in cycle["fields"]]
    assert {"light_intensity", "light_duration_minutes", "duration"} <= set(keys)
    light = next(f for f in cycle["fields"] if f["key"] == "light_intensity")
    assert (light["label"], light["unit"], light["default"], light["type"]) == ("Light intensity", "%", 50.0, "numeric")
    names = {a["automation_name"]: a["display_name"] for a in web.call("GET", "/api/automations/descriptors/dosing").json()}
    assert names["pid_morbidostat"] == "PID morbidostat"
    jobs = {j["job_name"]: j["display_name"] for j in web.call("GET", "/api/jobs/descriptors").json()}
    assert jobs["led_automation"] == "LED automation"


def test_plugin_installs_are_refused_while_disallowed(web):
    installed = web.call("GET", "/unit_api/plugins/installed")
    assert installed.status == 200 and isinstance(installed.json(), list)
    assert web.call("POST", "/unit_api/plugins/install", {"args": ["--index-url=http://evil"]}).status == 400
    (web.home.path / "DISALLOW_UI_INSTALLS").touch()
    for path in ("/unit_api/plugins/install", "/unit_api/plugins/uninstall", f"/api/units/{web.home.unit}/plugins/install"):
        answer = web.call("POST", path, {"args": ["pioreactor-air-bubbler"]})
        assert answer.status == 403 and "DISALLOW_UI_INSTALLS" in answer.json()["cause"]


LONG_PROFILE = GOOD_PROFILE.replace("hours_elapsed: 0.0", "hours_elapsed: 0.0\n        - type: stop\n          hours_elapsed: 10.0")


def test_a_profile_runs_shows_as_running_and_is_stopped_by_its_job_id(web):
    experiment = web.home.experiment
    assert web.call("POST", "/api/experiment_profiles", {"filename": "long.yaml", "body": LONG_PROFILE}).status == 201
    started = web.call(
        "POST", "/unit_api/jobs/run/job_name/experiment_profile", {"args": ["execute", "long.yaml", experiment], "options": {}}
    )
    assert web.result(started)["status"] == "succeeded"
    deadline = time.monotonic() + 30
    while not (running := web.call("GET", f"/api/experiments/{experiment}/experiment_profiles/running").json()):
        assert time.monotonic() < deadline, "the profile never showed as running"
        time.sleep(0.1)
    (run,) = running
    assert run["settings"].get("experiment_profile_name") in ("demo", None)
    assert web.call("GET", f"/api/experiment_profiles/running/experiments/{experiment}").json() == running  # 25.11
    stopped = web.call("POST", "/unit_api/jobs/stop", {"job_id": run["job_id"]})
    assert stopped.status in (200, 202), stopped.text
    if stopped.status == 202:
        web.result(stopped)
    deadline = time.monotonic() + 30
    while web.call("GET", f"/api/experiments/{experiment}/experiment_profiles/running").json():
        assert time.monotonic() < deadline, "the profile still runs after its stop"
        time.sleep(0.1)


def test_capabilities_for_the_profile_editor(web):
    caps = web.call("GET", "/unit_api/capabilities").json()
    stirring = next(c for c in caps if c["job_name"] == "stirring")
    assert "target-rpm" in [o["long_flag"] for o in stirring["options"]]
    assert "target_rpm" in stirring["published_settings"]
    assert any(c.get("automation_name") == "thermostat" for c in caps)
    # each option's type and default, as the Manage dialog shows them
    turbidostat = next(c for c in caps if c.get("automation_name") == "turbidostat")
    duration = next(o for o in turbidostat["options"] if o["name"] == "duration")
    assert (duration["type"], duration["default"]) == ("FLOAT", 0.25)
    task = web.result(web.call("GET", "/api/units/$broadcast/capabilities"))
    assert task["result"][web.home.unit]["ok"] is True


GREETER = '''\
"""A single-file plugin for the tests."""
from pioreactor.sdk import hookimpl

__plugin_version__ = "0.1.0"


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section("greeter.config", {"greeting": "hello"})
'''


def test_a_plugin_listed_and_uninstalled_through_the_api(web):
    (web.home.path / "plugins").mkdir(exist_ok=True)
    plugin_file = web.home.path / "plugins" / "greeter.py"
    plugin_file.write_text(GREETER)
    names = [row["name"] for row in web.call("GET", "/unit_api/plugins/installed").json()]
    assert "greeter" in names
    listed = web.result(web.call("GET", f"/api/units/{web.home.unit}/plugins/installed"))
    assert "greeter" in [row["name"] for row in listed["result"][web.home.unit]["value"]]
    task = web.result(web.call("POST", f"/api/units/{web.home.unit}/plugins/uninstall", {"args": ["greeter"]}))
    assert task["result"][web.home.unit]["ok"] is True, task
    assert not plugin_file.exists()


def test_recent_profile_runs_and_upstream_yaml_descriptors(web):
    from pioreactor.sdk.database import open_database

    conn = open_database()
    conn.execute(
        "INSERT INTO experiment_profile_runs VALUES ('r1', 'exp1', 'unit1', '2026-01-01T00:00:00.000000Z', 'demo')"
    )
    conn.close()
    runs = web.call("GET", "/api/experiments/exp1/experiment_profiles/recent").json()
    assert [(r["run_id"], r["experiment_profile_name"]) for r in runs] == [("r1", "demo")]
    # a job descriptor written for upstream, dropped in $PIO_HOME/ui/jobs
    (web.home.path / "ui" / "jobs").mkdir(parents=True)
    (web.home.path / "ui" / "jobs" / "pump_x.yaml").write_text(
        "display_name: Pump X\njob_name: pump_x\ndisplay: true\npublished_settings: []\n"
    )
    jobs = {j["job_name"]: j for j in web.call("GET", "/api/jobs/descriptors").json()}
    assert jobs["pump_x"]["display_name"] == "Pump X" and jobs["pump_x"]["source"] == "user"
