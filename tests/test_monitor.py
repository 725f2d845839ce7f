"""The monitor: what a dead job left on goes off within 3 s, a live job is left alone, PWM changes
are published, health topics and problems (logged once, blinked on the status LED)."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

from pioreactor.sdk.testing import JobProcess, MqttProbe, PioHome
from test_pumps import calibrate, truth, wait_until

SWITCH_OFF_WITHIN = 3.0  # seconds, what the issue asks


def monitor_topic(home: PioHome, *parts: str) -> str:
    return "/".join(["pioreactor", home.unit, "$experiment", "monitor", *parts])


def start_monitor(run_job, probe: MqttProbe, home: PioHome) -> JobProcess:  # type: ignore[no-untyped-def]
    mark = probe.mark()
    monitor = run_job("monitor")
    probe.wait_for(monitor_topic(home, "$state"), "ready", since=mark, timeout=20)
    return monitor


def warnings(probe: MqttProbe, home: PioHome, since: int = 0) -> list[str]:
    topic = f"pioreactor/{home.unit}/$experiment/logs/app/warning"
    return [json.loads(m.payload)["message"] for m in probe.messages[since:] if m.topic == topic]


def wait_for_warning(probe: MqttProbe, home: PioHome, text: str, since: int = 0, timeout: float = 20) -> str:
    seen = probe.wait_for(
        f"pioreactor/{home.unit}/$experiment/logs/app/warning",
        lambda p: text in json.loads(p)["message"],
        since=since,
        timeout=timeout,
    )
    return str(json.loads(seen.payload)["message"])


def stirring_duty_cycle() -> float:
    from pioreactor.sdk import local_intermittent_storage

    with local_intermittent_storage("simulator_actuators") as store:
        return float(store.get("stirring", {}).get("duty_cycle", 0.0))


def kill_9_and_time_until(job: JobProcess, condition: Any) -> float:
    job.signal(signal.SIGKILL)
    job.wait()
    killed = time.monotonic()
    wait_until(condition, timeout=10)
    return time.monotonic() - killed


def test_a_pump_killed_mid_dose_and_a_killed_thermostat_are_switched_off_a_live_job_is_not(
    run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome
) -> None:  # type: ignore[no-untyped-def]
    calibrate()
    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    stirring = run_job("stirring", "--target-rpm", "500")
    stirring.wait_for_state(mqtt_probe, "ready")

    # a long dose, killed half-way
    mark = mqtt_probe.mark()
    dose = run_job("add_media", "--duration", "19")  # 19 ml: the most a dose may add to the 20 ml vial
    wait_until(lambda: truth()["pumps"].get("media", 0) > 0)
    took = kill_9_and_time_until(dose, lambda: truth()["pumps"].get("media", 0) == 0)
    print(f"\nmedia pump off {took:.2f} s after kill -9")
    assert took < SWITCH_OFF_WITHIN
    message = wait_for_warning(mqtt_probe, pio_home, "add_media", since=mark)
    assert "ended without its clean-up" in message and "media (PWM 2)" in message
    # the switch-off is published like any PWM change, under the dead job's experiment
    mqtt_probe.wait_for(
        pio_home.topic("pwms", "channel_dc"), lambda p: json.loads(p)["channels"]["2"] == 0.0, since=mark
    )

    # a thermostat, killed while heating
    mark = mqtt_probe.mark()
    thermostat = run_job("temperature_automation", "--automation-name", "thermostat", "--target-temperature", "45")
    wait_until(lambda: truth()["heater_duty_cycle"] > 0, timeout=20)
    took = kill_9_and_time_until(thermostat, lambda: truth()["heater_duty_cycle"] == 0)
    print(f"heater off {took:.2f} s after kill -9")
    assert took < SWITCH_OFF_WITHIN
    assert "heating (PWM 5)" in wait_for_warning(mqtt_probe, pio_home, "temperature_automation", since=mark)

    # the live stirring job was never touched
    assert stirring.process.poll() is None
    assert stirring_duty_cycle() > 0
    assert not any("stirring" in w for w in warnings(mqtt_probe, pio_home))
    assert stirring.stop() == 0
    assert monitor.stop() == 0


def test_at_start_it_switches_off_what_an_earlier_boot_left_on(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.kernel import outputs
    from pioreactor.kernel.plugins import load_config_with_plugins
    from pioreactor.plugins_core.simulator.world import reset_world

    load_config_with_plugins()
    reset_world(heater_duty_cycle=30.0)
    with outputs.transaction() as conn:  # as the thermostat of an earlier boot recorded it
        conn.execute(
            f"INSERT INTO outputs ({outputs.COLUMNS}) VALUES "
            "('pwm:5', 'pwm', '5', 'heating', 30.0, ?, 7, 'temperature_automation', 4242, '99', 'an-earlier-boot', 'then')",
            (pio_home.experiment,),
        )
    mark = mqtt_probe.mark()
    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    assert truth()["heater_duty_cycle"] == 0.0
    message = wait_for_warning(mqtt_probe, pio_home, "before this boot", since=mark)
    assert "temperature_automation" in message and "heating (PWM 5) at 30%" in message
    assert monitor.stop() == 0


def test_every_pwm_change_is_published_on_channel_dc(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    mark = mqtt_probe.mark()
    stirring = run_job("stirring", "--target-rpm", "500")
    seen = mqtt_probe.wait_for(
        pio_home.topic("pwms", "channel_dc"), lambda p: json.loads(p)["channels"]["1"] > 0, since=mark
    )
    payload = json.loads(seen.payload)
    assert set(payload) == {"timestamp", "channels"} and payload["timestamp"].endswith("Z")
    assert set(payload["channels"]) == {"1", "2", "3", "4", "5"}
    mark = mqtt_probe.mark()
    assert stirring.stop() == 0
    mqtt_probe.wait_for(pio_home.topic("pwms", "channel_dc"), lambda p: json.loads(p)["channels"]["1"] == 0.0, since=mark)


def test_health_topics_and_a_problem_logged_once_and_blinked(pio, run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.simulator.board import blink_codes, status_led_history
    from pioreactor.plugins_core.simulator.faults import set_fault

    pio_home.write_config("[monitor]\ncheck_every_seconds=0.3\n")
    set_fault("pwm_rail_voltage", 4.5)
    mark = mqtt_probe.mark()
    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    versions = json.loads(mqtt_probe.wait_for(monitor_topic(pio_home, "versions"), since=mark).payload)
    assert versions["app"] and set(versions) >= {"app", "hat", "firmware", "hat_serial", "rpi_machine", "timestamp"}
    assert mqtt_probe.wait_for(monitor_topic(pio_home, "ipv4"), since=mark).payload
    for interface in ("wlan_mac_address", "eth_mac_address"):
        assert mqtt_probe.wait_for(monitor_topic(pio_home, interface), since=mark).payload
    stats = json.loads(mqtt_probe.wait_for(monitor_topic(pio_home, "computer_statistics"), since=mark).payload)
    assert 0 <= stats["disk_usage_percent"] <= 100 and stats["cpu_temperature_celcius"] == 48.0
    assert json.loads(mqtt_probe.wait_for(monitor_topic(pio_home, "voltage_on_pwm_rail"), since=mark).payload)["voltage"] == 4.5
    assert mqtt_probe.wait_for(monitor_topic(pio_home, "clock_skew_seconds"), since=mark).payload == "0.0"

    assert "PWM rail is at 4.50 V" in wait_for_warning(mqtt_probe, pio_home, "Power problem", since=mark)
    wait_until(lambda: 7 in blink_codes(status_led_history()), timeout=15)
    # several more checks later, still one warning
    index = mark
    for _ in range(3):
        index = mqtt_probe.messages.index(
            mqtt_probe.wait_for(monitor_topic(pio_home, "computer_statistics"), since=index)
        ) + 1
    assert sum("Power problem" in w for w in warnings(mqtt_probe, pio_home, since=mark)) == 1

    # `pio kill --all-jobs` spares the monitor; the okay pattern on request
    assert "Killed 0 job(s)." in pio("kill", "--all-jobs").stdout
    assert monitor.process.poll() is None
    assert monitor.stop() == 0


def test_the_button_lights_the_status_led_and_is_published(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.simulator.board import status_led_history
    from pioreactor.plugins_core.simulator.faults import set_fault

    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    mark = mqtt_probe.mark()
    set_fault("button_pressed", True)
    mqtt_probe.wait_for(monitor_topic(pio_home, "button_down"), "True", since=mark)
    wait_until(lambda: status_led_history()[-1][1] is True)
    set_fault("button_pressed", False)
    mqtt_probe.wait_for(monitor_topic(pio_home, "button_down"), "False", since=mark)
    assert monitor.stop() == 0


def test_an_led_a_job_put_back_stays_its_owners(run_job, pio, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    """od_reading switches LED B off for each reading and puts it back: B stays the person's (no
    holder), so killing od_reading never takes it down."""
    from pioreactor.kernel import outputs

    assert pio("run", "led_intensity", "--B", "40").returncode == 0
    od = run_job("od_reading")
    index = 0
    for _ in range(2):
        index = mqtt_probe.messages.index(mqtt_probe.wait_for(pio_home.topic("od_reading", "ods"), since=index)) + 1
    od.signal(signal.SIGKILL)
    od.wait()
    record = outputs.get("led:B")
    assert record is not None and record.value == 40.0 and record.holder is None
    assert "led:B" not in [orphan.output for orphan in outputs.orphans()]
    assert truth()["leds"]["B"] == 40.0


def test_a_worker_whose_clock_is_off_the_leaders_says_so_once(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    import threading
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class LeaderClock(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            ahead = datetime.now(UTC) + timedelta(seconds=30)  # the leader is 30 s ahead
            body = json.dumps({"pioreactor_unit": "leader", "clock_time": ahead.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
            self.send_response(200 if self.path == "/unit_api/system/utc_clock" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), LeaderClock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pio_home.write_config(
            f"[cluster]\nleader_hostname=127.0.0.1\n\n[monitor]\ncheck_every_seconds=0.3\nleader_web_port={server.server_port}\n"
        )
        mark = mqtt_probe.mark()
        monitor = start_monitor(run_job, mqtt_probe, pio_home)
        skew = mqtt_probe.wait_for(monitor_topic(pio_home, "clock_skew_seconds"), lambda p: p != "", since=mark)
        assert -31 < float(skew.payload) < -29
        assert "off the leader's (127.0.0.1)" in wait_for_warning(mqtt_probe, pio_home, "clock is", since=mark)
        index = mark
        for _ in range(3):
            index = mqtt_probe.messages.index(mqtt_probe.wait_for(monitor_topic(pio_home, "computer_statistics"), since=index)) + 1
        assert sum("clock is" in w for w in warnings(mqtt_probe, pio_home, since=mark)) == 1
        assert monitor.stop() == 0
    finally:
        server.shutdown()


def test_losing_the_broker_is_logged_once_and_its_return_too(run_job, pio_home: PioHome, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.sdk.testing import start_broker

    broker = start_broker(tmp_path / "own-broker")  # this test stops its broker; others keep theirs
    pio_home.broker = broker
    pio_home.write_config("[monitor]\ncheck_every_seconds=0.3\n")
    try:
        probe = MqttProbe(broker)
        monitor = start_monitor(run_job, probe, pio_home)
        probe.close()
        broker.stop()
        wait_until(lambda: "Not connected to the MQTT broker" in monitor.output(), timeout=15)
        broker.start()
        wait_until(lambda: "Resolved: broker connection" in monitor.output(), timeout=30)
        assert monitor.output().count("[monitor] Not connected to the MQTT broker") == 1
        assert monitor.stop() == 0
    finally:
        broker.stop()


def test_disk_cpu_temperature_and_under_voltage_problems(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    from pioreactor.plugins_core.simulator.board import blink_codes, status_led_history
    from pioreactor.plugins_core.simulator.faults import set_fault

    pio_home.write_config("[monitor]\ncheck_every_seconds=0.3\ndisk_usage_warning_percent=0.001\n")
    set_fault("cpu_temperature", 85.0)
    set_fault("under_voltage", True)
    mark = mqtt_probe.mark()
    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    assert "Disk space is low" in wait_for_warning(mqtt_probe, pio_home, "Disk space", since=mark)
    assert "85 °C (above 70 °C)" in wait_for_warning(mqtt_probe, pio_home, "CPU is hot", since=mark)
    assert "under-voltage" in wait_for_warning(mqtt_probe, pio_home, "Power problem", since=mark)
    wait_until(lambda: {3, 7} <= set(blink_codes(status_led_history())), timeout=30)

    # the CPU cools down: said once, and the other problems are not repeated
    set_fault("cpu_temperature", False)
    info = f"pioreactor/{pio_home.unit}/$experiment/logs/app/info"
    mqtt_probe.wait_for(info, lambda p: "Resolved: cpu temperature" in p, since=mark)
    seen = warnings(mqtt_probe, pio_home, since=mark)
    assert [sum(text in w for w in seen) for text in ("Disk space", "CPU is hot", "Power problem")] == [1, 1, 1]
    assert monitor.stop() == 0


def test_a_record_that_cannot_be_written_never_stops_the_hardware(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    (pio_home.path / "storage").mkdir(exist_ok=True)
    (pio_home.path / "storage" / "outputs.sqlite").mkdir()  # as unwritable as a full disk
    stirring = run_job("stirring", "--target-rpm", "500")
    stirring.wait_for_state(mqtt_probe, "ready")
    wait_until(lambda: stirring_duty_cycle() > 0)
    assert stirring.stop() == 0
    assert stirring_duty_cycle() == 0
    output = stirring.output()
    assert output.count("Could not record pwm 1 for the monitor") == 1, output


def test_a_dosing_automation_killed_mid_dose_is_switched_off(run_job, mqtt_probe: MqttProbe, pio_home: PioHome) -> None:  # type: ignore[no-untyped-def]
    calibrate()
    monitor = start_monitor(run_job, mqtt_probe, pio_home)
    mark = mqtt_probe.mark()
    chemostat = run_job(
        "dosing_automation", "--automation-name", "chemostat", "--exchange-volume-ml", "8", "--duration", "60"
    )  # fmt: skip
    wait_until(lambda: any(truth()["pumps"].values()), timeout=30)  # its first exchange is running
    took = kill_9_and_time_until(chemostat, lambda: not any(truth()["pumps"].values()))
    print(f"\npumps off {took:.2f} s after kill -9 of a dosing automation")
    assert took < SWITCH_OFF_WITHIN
    assert "dosing_automation" in wait_for_warning(mqtt_probe, pio_home, "ended without its clean-up", since=mark)
    assert monitor.stop() == 0


def test_a_value_wavering_around_its_limit_is_one_problem() -> None:
    from pioreactor.plugins_core.monitor.health import ProblemLog

    said: list[str] = []

    class Logger:
        def warning(self, message: str, *args: Any) -> None:
            said.append("warning: " + (message % args if args else message))

        def info(self, message: str, *args: Any) -> None:
            said.append("info: " + (message % args if args else message))

    blinked: list[int] = []
    problems = ProblemLog(Logger(), blinked.append)
    for cpu in (86.0, 84.0, 88.0, 80.0, 74.0, 80.0):
        over = problems.over("cpu_usage", cpu, 85.0, margin=10.0)
        problems.report("cpu_usage", f"CPU use is high: {cpu:g}%" if over else None, code=9)
    assert said == ["warning: CPU use is high: 86%", "info: Resolved: cpu usage."]
    assert blinked == [9]
