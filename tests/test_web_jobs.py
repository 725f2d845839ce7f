"""Jobs through the web API: real HTTP to `pio run web_server`, real jobs, seen on MQTT."""

from __future__ import annotations

from pioreactor.plugins_core.web.testing import WebServer
from pioreactor.sdk.testing import MqttProbe, PioHome


def test_start_update_and_stop_a_job_through_the_leader_api(
    web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:
    unit, experiment = pio_home.unit, pio_home.experiment
    started = web_server.patch(
        f"/api/workers/{unit}/jobs/run/job_name/stirring/experiments/{experiment}",
        json={
            "options": {"target_rpm": 300},
            "args": [],
            "env": {"JOB_SOURCE": "user"},
            "config_overrides": [["stirring.config", "pwm_hz", "150"]],
        },
    )
    assert started.status == 202
    body = started.json()
    assert body["unit"] == unit and body["result_url_path"] == f"/unit_api/task_results/{body['task_id']}"
    outcome = web_server.wait_for_task(started)
    assert outcome["status"] == "succeeded", outcome
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
    mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm"), lambda p: float(p) == 300.0)

    running = web_server.get("/unit_api/jobs/running").json()
    stirring = next(job for job in running if job["job_name"] == "stirring")
    assert stirring["experiment"] == experiment and stirring["pid"] == outcome["result"]["pid"]

    since = mqtt_probe.mark()
    update = web_server.patch(
        f"/api/workers/{unit}/jobs/update/job_name/stirring/experiments/{experiment}",
        json={"settings": {"target_rpm": 450}},
    )
    assert update.status == 202, update.text
    mqtt_probe.wait_for(pio_home.topic("stirring", "target_rpm"), lambda p: float(p) == 450.0, since=since)
    setting = web_server.get("/unit_api/jobs/settings/job_name/stirring/setting/target_rpm")
    assert setting.status == 200 and float(setting.json()["target_rpm"]) == 450.0

    stop = web_server.post(f"/api/workers/{unit}/jobs/stop/job_name/stirring/experiments/{experiment}")
    assert web_server.wait_for_task(stop)["result"]["stopped"] == 1
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected")
    assert web_server.get("/unit_api/jobs/running/stirring").json() == []


def test_broadcast_update_reaches_the_job(web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    started = web_server.post("/unit_api/jobs/run/job_name/stirring", json={"env": {"EXPERIMENT": pio_home.experiment}})
    assert web_server.wait_for_task(started)["status"] == "succeeded"
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready")
    since = mqtt_probe.mark()
    update = web_server.patch(
        f"/api/workers/$broadcast/jobs/update/job_name/stirring/experiments/{pio_home.experiment}",
        json={"settings": {"$state": "sleeping"}},
    )
    assert update.status == 202
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "sleeping", since=since)


def test_a_failed_start_reports_the_jobs_own_error(web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:
    bad = web_server.post("/unit_api/jobs/run/job_name/stirring", json={"options": {"target_rpm": 99999}})
    outcome = web_server.wait_for_task(bad)
    assert outcome["status"] == "failed"
    assert "target_rpm" in outcome["error"] and "1500" in outcome["error"]

    first = web_server.post("/unit_api/jobs/run/job_name/stirring")
    assert web_server.wait_for_task(first)["status"] == "succeeded"
    duplicate = web_server.post("/unit_api/jobs/run/job_name/stirring")
    outcome = web_server.wait_for_task(duplicate)
    assert outcome["status"] == "failed" and "already running" in outcome["error"]


def test_bad_job_requests_name_the_problem(web_server: WebServer) -> None:
    unknown = web_server.post("/unit_api/jobs/run/job_name/stiring")
    assert unknown.status == 404 and "stiring" in unknown.json()["error"]
    bad_options = web_server.post("/unit_api/jobs/run/job_name/stirring", json={"options": [1, 2]})
    assert bad_options.status == 400 and "'options'" in bad_options.json()["error"]
    bad_env = web_server.post("/unit_api/jobs/run/job_name/stirring", json={"env": {"LD_PRELOAD": "x.so"}})
    assert bad_env.status == 400 and "LD_PRELOAD" in bad_env.json()["error"]
    not_json = web_server.post("/unit_api/jobs/run/job_name/stirring", data="{oops", headers={"Content-Type": "application/json"})
    assert not_json.status == 400 and "not valid JSON" in not_json.json()["error"]
    no_filter = web_server.post("/unit_api/jobs/stop")
    assert no_filter.status == 400 and "job_id" in no_filter.json()["remediation"]


def test_stop_all_spares_the_web_server_and_stop_by_job_id(
    web_server: WebServer, mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:
    env = {"env": {"EXPERIMENT": pio_home.experiment}}
    started = web_server.post("/unit_api/jobs/run/job_name/stirring", json=env)
    assert web_server.wait_for_task(started)["status"] == "succeeded"
    job_id = web_server.get("/unit_api/jobs/running/stirring").json()[0]["job_id"]
    assert web_server.wait_for_task(web_server.post("/unit_api/jobs/stop?job_id=999999"))["result"]["stopped"] == 0

    stop = web_server.patch("/unit_api/jobs/stop", json={"job_id": job_id, "settings": {"$state": "disconnected"}})
    assert web_server.wait_for_task(stop)["result"]["stopped"] == 1
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected")

    again = web_server.post("/unit_api/jobs/run/job_name/stirring", json=env)
    assert web_server.wait_for_task(again)["status"] == "succeeded"
    everything = web_server.post("/unit_api/jobs/stop/all")
    assert web_server.wait_for_task(everything)["result"]["jobs"] == ["stirring"]
    assert web_server.get("/unit_api/health").status == 200
    assert [job["job_name"] for job in web_server.get("/unit_api/long_running_jobs/running").json()] == ["web_server"]
