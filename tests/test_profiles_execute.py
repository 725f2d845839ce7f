"""Executing profiles on the simulator with a scaled clock: a 48-hour profile runs in seconds.

The tests follow what the jobs publish (their ``$state`` and settings, in order), what the run
publishes about itself, and its log lines with step numbers. Stopping a run stops the jobs it
started, and only those: two runs in one experiment do not meet.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

from pioreactor.sdk.testing import MqttProbe, PioHome

PROFILES = Path(__file__).parent / "fixtures" / "profiles"
# eight simulated hours per second: the simulated stirrer takes up to ~0.2 s (1.6 h) to apply a
# change after a long quiet spell, so the profiles space dependent actions four hours apart
SPEED = 28800
# the stirring loop would measure every few simulated seconds: keep it quiet on this fast clock
FAST = f"[simulation]\nclock_speed={SPEED}\n\n[stirring.config]\nduration_between_updates_seconds=3600000\n"


def deduplicated(values: list[str]) -> list[str]:
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def logs(probe: MqttProbe, home: PioHome, task_prefix: str = "experiment_profile/") -> list[tuple[str, str]]:
    found = []
    for message in probe.messages:
        if message.topic.startswith(home.topic("logs", "")) and message.payload:
            record = json.loads(message.payload)
            if record["task"].startswith(task_prefix):
                found.append((record["level"], record["message"]))
    return found


def step_times(lines: list[tuple[str, str]]) -> dict[int, float]:
    """Hours into the profile at which each step (its first time) was carried out."""
    times: dict[int, float] = {}
    for _, message in lines:
        match = re.match(r"step (\d+)(?: \(loop \d+\))? at ([\d.]+)(s|m|h)\b", message)
        if match:
            scale = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0}[match[3]]
            times.setdefault(int(match[1]), float(match[2]) * scale)
    return times


def test_every_action_type_and_expression_over_48_hours(pio, pio_home, mqtt_probe) -> None:
    pio_home.write_config(FAST)
    result = pio("run", "experiment_profile", "execute", str(PROFILES / "every_action.yaml"), "--experiment", pio_home.experiment, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    unit, experiment = pio_home.unit, pio_home.experiment
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected")  # the last stop lands after the run ends

    # the stirrer went through every state, its target through every update, in order
    states = deduplicated(mqtt_probe.payloads(pio_home.topic("stirring", "$state")))
    assert states == ["init", "ready", "sleeping", "ready", "disconnected"]
    targets = deduplicated([p for p in mqtt_probe.payloads(pio_home.topic("stirring", "target_rpm")) if p])
    assert targets == ["400.0", "500.0", "510.0", "520.0", "700.0"]  # the when's 700 ends the repeat's while
    assert mqtt_probe.payloads(pio_home.topic("stirring", "target_rpm/set")) == ["500", "510", "520", "700"]  # `if: false` sent nothing
    assert deduplicated(mqtt_probe.payloads(pio_home.topic("led_automation", "$state"))) == ["init", "ready", "disconnected"]
    assert mqtt_probe.payloads(pio_home.topic("led_automation", "automation_name"))[0] == "silent"

    # its log: the log actions' messages with their expressions evaluated, step numbers, skips
    lines = logs(mqtt_probe, pio_home)
    messages = [message for _, message in lines]
    assert ("NOTICE", f"stirring on {unit} in {experiment} is at 500 RPM; past 14h: true") in lines
    assert ("INFO", "loop at 510") in lines
    assert ("WARNING", "target reached: 520") in lines
    assert "never" not in messages  # the repeat child later than `every` never ran
    assert any(re.match(r"step 13 at [\d.]+h: skipped update of stirring on .*: its if is false\.", m) for m in messages)
    assert any(re.match(r"step 6 \(loop 3\) at [\d.]+h: the repeat of stirring ends: its while is false\.", m) for m in messages)
    assert any(m.startswith("step 1 at ") and m.endswith(f"started stirring on {unit}: pio run stirring --target-rpm 400") for m in messages)
    finished = [m for m in map(re.compile(r"Finished profile every action after ([\d.]+)h: (\d+) action\(s\) carried out\.").match, messages) if m]
    assert finished and float(finished[0][1]) >= 48 and int(finished[0][2]) == 14, messages[-3:]

    # over time: each step ran no earlier than its time, in the timeline's order
    times = step_times(lines)
    scheduled = {1: 0, 15: 1, 2: 4, 3: 8, 4: 14, 7: 16, 13: 30, 16: 44, 14: 48}
    assert all(times[step] >= hours for step, hours in scheduled.items()), times
    order = sorted(scheduled, key=scheduled.get)  # type: ignore[arg-type]
    assert [times[s] for s in order] == sorted(times[s] for s in order)

    # the run published itself under its own id, and cleared its name at the end
    names = [m for m in mqtt_probe.messages if m.topic.endswith("/experiment_profile_name") and "/experiment_profile/" in m.topic]
    assert names[0].payload == "every action" and names[-1].payload == ""
    run_prefix = names[0].topic.rsplit("/", 1)[0]
    assert deduplicated(mqtt_probe.payloads(run_prefix + "/$state")) == ["init", "ready", "disconnected"]
    assert [p for p in mqtt_probe.payloads(run_prefix + "/action_count") if p][-1] == "14"
    assert float([p for p in mqtt_probe.payloads(run_prefix + "/hours_elapsed") if p][-1]) >= 48.0
    assert not any(mqtt_probe.payloads(run_prefix + "/percent_progress"))  # a when makes the end unknowable

    # the jobs it started are attributed to experiment profiles
    from pioreactor.kernel.job_registry import RunningJobs

    with RunningJobs() as registry:
        sources = {(r.job_name, r.job_source, r.experiment) for r in registry.history()}
    assert ("stirring", "experiment_profile", experiment) in sources
    assert ("led_automation", "experiment_profile", experiment) in sources


def test_the_older_format_runs_the_same_way(pio, pio_home, mqtt_probe) -> None:
    pio_home.write_config(FAST)
    result = pio("run", "experiment_profile", "execute", str(PROFILES / "older_format.yaml"), pio_home.experiment, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "led_control is now called led_automation" in result.stderr
    mqtt_probe.wait_for(pio_home.topic("led_automation", "$state"), "disconnected")  # the last stop lands after the run ends
    targets = deduplicated([p for p in mqtt_probe.payloads(pio_home.topic("stirring", "target_rpm")) if p])
    assert targets == ["300.0", "350.0", "400.0", "450.0"]  # loops at 4h, 8h, 12h: max_hours 12
    assert deduplicated(mqtt_probe.payloads(pio_home.topic("stirring", "$state"))) == ["init", "ready", "disconnected"]
    assert deduplicated(mqtt_probe.payloads(pio_home.topic("led_automation", "$state"))) == ["init", "ready", "disconnected"]
    lines = logs(mqtt_probe, pio_home)
    assert ("NOTICE", f"stirring on {pio_home.unit} in {pio_home.experiment} starts its loops") in lines
    times = step_times(lines)
    assert times[6] >= 12 + 1  # the when held after the 12h loop; its stop (step 6) came an hour later
    assert any(m.startswith("Finished profile older format after 2") for _, m in lines), lines[-3:]


PLUGIN = '''
from pioreactor.sdk import hookimpl

@hookimpl
def pioreactor_register_profile_actions(registry):
    registry.add("note", "pioreactor_local_plugin_profile_extras:note", summary="Log a note")

@hookimpl
def pioreactor_register_expression_functions(registry):
    registry.add("doubled", "pioreactor_local_plugin_profile_extras:doubled", summary="Twice x")

def note(context, options):
    context.logger.notice(
        f"note from step {context.step} on {context.unit}/{context.job_name}, 2h in: {context.hours_elapsed() >= 2}: "
        f"{options['text']} x{options['times']:g}"
    )

def doubled(x):
    return 2 * x
'''


def test_plugin_action_types_and_functions_and_unit_blocks(pio, pio_home, mqtt_probe, tmp_path) -> None:
    pio_home.write_config(FAST)
    (pio_home.path / "plugins").mkdir()
    (pio_home.path / "plugins" / "profile_extras.py").write_text(PLUGIN)
    profile = tmp_path / "plugin_action.yaml"
    profile.write_text((PROFILES / "plugin_action.yaml").read_text().replace("__UNIT__", pio_home.unit))
    assert pio("run", "experiment_profile", "verify", str(profile)).returncode == 0

    result = pio("run", "experiment_profile", "execute", str(profile), "--experiment", pio_home.experiment, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected")
    assert mqtt_probe.payloads(pio_home.topic("stirring", "target_rpm"))[0] == "300.0"  # doubled(150)
    lines = logs(mqtt_probe, pio_home)
    assert ("NOTICE", f"note from step 2 on {pio_home.unit}/stirring, 2h in: True: rpm is 300 x4") in lines
    assert any("some_other_unit is not this unit" in m and "its 1 action(s) are skipped" in m for _, m in lines)
    assert mqtt_probe.payloads(pio_home.topic("unit_label")) == ["the plugin one"]
    progress = [float(p) for p in mqtt_probe.payloads(pio_home.topic("experiment_profile", "*", "percent_progress")) if p]
    assert progress[0] == 0.0 and progress[-1] == 100.0 and progress == sorted(progress)
    assert deduplicated(mqtt_probe.payloads(pio_home.topic("stirring", "$state"))) == ["init", "ready", "disconnected"]


def test_two_runs_in_one_experiment_each_stop_only_their_own_jobs(run_job, pio_home, mqtt_probe) -> None:
    pio_home.write_config("[simulation]\nclock_speed=60\n")
    stirring_run = run_job("experiment_profile", "execute", str(PROFILES / "long_running.yaml"), "--experiment", pio_home.experiment)
    leds_run = run_job("experiment_profile", "execute", str(PROFILES / "long_leds.yaml"), "--experiment", pio_home.experiment)
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "ready", timeout=20)
    mqtt_probe.wait_for(pio_home.topic("led_automation", "$state"), "ready", timeout=20)
    runs = {m.payload: m.topic.split("/")[-2] for m in mqtt_probe.messages if m.topic.endswith("/experiment_profile_name") and m.payload}
    assert set(runs) == {"long stirring", "long leds"} and len(set(runs.values())) == 2  # a run id each

    # pausing a run pauses its timeline, over MQTT like any job
    leds_topic = pio_home.topic("experiment_profile", runs["long leds"], "$state")
    mqtt_probe.publish(leds_topic + "/set", "sleeping")
    mqtt_probe.wait_for(leds_topic, "sleeping")

    # SIGTERM to the stirring run: its stirring stops, the other run's LED automation does not
    mark = mqtt_probe.mark()
    stirring_run.signal(signal.SIGTERM)
    assert stirring_run.wait(20) == 0
    mqtt_probe.wait_for(pio_home.topic("stirring", "$state"), "disconnected", since=mark)
    assert "disconnected" not in mqtt_probe.payloads(pio_home.topic("led_automation", "$state"), since=mark)
    assert "Stopped profile long stirring early: 1 scheduled action(s) will not run; stopped the 1 job(s) it started (stirring)." in stirring_run.output()

    # the other run is stopped over MQTT: its LED automation stops with it
    mqtt_probe.publish(leds_topic + "/set", "disconnected")
    assert leds_run.wait(20) == 0
    mqtt_probe.wait_for(pio_home.topic("led_automation", "$state"), "disconnected", since=mark)
    assert "stopped the 1 job(s) it started (led_automation)" in leds_run.output()
