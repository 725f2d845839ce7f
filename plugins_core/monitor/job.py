"""``pio run monitor``: one per unit, started at boot, spared by ``pio kill --all-jobs``.

* Supervises the unit's jobs: what a job left on when it died without its clean-up is switched
  off within seconds (``supervisor.py``), and at start what was left on before this boot.
* Checks the unit's health every ``[monitor] check_every_seconds`` (``health.py``): broker,
  network, disk, memory, CPU use and temperature, power (under-voltage, PWM rail), the HAT, the
  clock against the leader's. A problem is logged once, when it appears, and blinked as an error
  code on the status LED.
* Publishes, under ``pioreactor/<unit>/$experiment/monitor/``: ``$state``, ``versions``,
  ``ipv4``, ``wlan_mac_address``, ``eth_mac_address``, ``computer_statistics``,
  ``voltage_on_pwm_rail``, ``clock_skew_seconds`` and ``button_down``.
* Blinks on request: ``.../monitor/flicker_led_response_okay`` and
  ``.../monitor/flicker_led_with_error_code`` (payload: the code), any experiment segment.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from pioreactor.plugins_core.monitor import health, system
from pioreactor.plugins_core.monitor.status_led import StatusLed
from pioreactor.plugins_core.monitor.structs import Voltage
from pioreactor.plugins_core.monitor.supervisor import Supervisor
from pioreactor.sdk import (
    UNIVERSAL_EXPERIMENT,
    BackgroundJob,
    Clock,
    Message,
    RepeatedTimer,
    am_i_leader,
    get_config,
    get_hardware,
    get_leader_hostname,
    software_version,
    storage_dir,
)

SECTION = "monitor"
VERSION_KEYS = ("app", "hat", "firmware", "hat_serial", "rpi_machine", "timestamp")
BUTTON_POLL_SECONDS = 0.1


class Monitor(BackgroundJob):
    """Supervise this unit: switch off what dead jobs left on, check its health, drive its status
    LED and button. Runs for the machine (its experiment is $experiment)."""

    job_name = "monitor"
    long_running = True
    published_settings = {
        "computer_statistics": {"datatype": "json", "settable": False},
        "button_down": {"datatype": "boolean", "settable": False},
        "versions": {"datatype": "json", "settable": True},
        "voltage_on_pwm_rail": {"datatype": Voltage, "settable": False},
        "ipv4": {"datatype": "string", "settable": False},
        "wlan_mac_address": {"datatype": "string", "settable": False},
        "eth_mac_address": {"datatype": "string", "settable": False},
        "clock_skew_seconds": {"datatype": "float", "settable": False, "unit": "s"},
    }

    def __init__(self, unit: str, experiment: str) -> None:
        super().__init__(unit, UNIVERSAL_EXPERIMENT)
        config = get_config()
        self.limits = health.Thresholds(
            disk_percent=config.getfloat(SECTION, "disk_usage_warning_percent", fallback=80.0),
            memory_percent=config.getfloat(SECTION, "memory_usage_warning_percent", fallback=75.0),
            cpu_percent=config.getfloat(SECTION, "cpu_usage_warning_percent", fallback=85.0),
            cpu_celsius=config.getfloat(SECTION, "cpu_temperature_warning_celsius", fallback=70.0),
            min_rail_volts=config.getfloat(SECTION, "min_pwm_rail_volts", fallback=4.8),
            max_clock_skew=config.getfloat(SECTION, "max_clock_skew_seconds", fallback=5.0),
        )
        self.broker = (config.get("mqtt", "broker_address"), config.getint("mqtt", "broker_port"))
        self.board = self._board()
        self.status_led = StatusLed(self.board, self.logger)
        self.problems = health.ProblemLog(self.logger, self.status_led.blink_error_code)
        self.cpu = system.CpuUsage()
        self.button_down = False
        self.ipv4 = system.ipv4(*self.broker)
        self.wlan_mac_address = system.mac_address("wlan0")
        self.eth_mac_address = system.mac_address("eth0")
        self.versions = self._versions()
        self.computer_statistics: dict[str, Any] | None = None
        self.voltage_on_pwm_rail: Voltage | None = None
        self.clock_skew_seconds: float | None = None
        self._stopping = threading.Event()

        # first what the last boot (or a job that died while no monitor ran) left on
        self.supervisor = Supervisor(self.logger, config.getfloat(SECTION, "sweep_every_seconds", fallback=0.5))
        self.supervisor.sweep()
        self.supervisor.start()
        self.bus.subscribe(f"pioreactor/{unit}/+/+/$state", self._on_job_state, allow_retained=False)
        self.bus.subscribe(
            f"pioreactor/{unit}/+/monitor/flicker_led_response_okay", self._on_flicker_okay, allow_retained=False
        )
        self.bus.subscribe(
            f"pioreactor/{unit}/+/monitor/flicker_led_with_error_code", self._on_error_code, allow_retained=False
        )
        self._checks = RepeatedTimer(
            config.getfloat(SECTION, "check_every_seconds", fallback=60.0),
            self.check_health,
            run_immediately=True,
            name="monitor-health",
            clock=Clock(),  # wall-clock, whatever the simulation's speed
        )
        self._button_thread: threading.Thread | None = None
        if config.getboolean(SECTION, "use_button", fallback=True) and health._ask(self.board, "button_pressed") is not None:
            self._button_thread = threading.Thread(target=self._watch_button, name="monitor-button", daemon=True)

    def _board(self) -> Any:
        try:
            backend = get_hardware()
            return backend.board() if hasattr(backend, "board") else None
        except Exception as err:
            self.logger.warning("No hardware to watch (%s): the monitor checks the computer only.", err)
            return None

    def _versions(self) -> dict[str, Any]:
        board_versions = health._ask(self.board, "versions") or {}
        return {
            "app": software_version(),
            "hat": board_versions.get("hat", ""),
            "firmware": board_versions.get("firmware", ""),
            "hat_serial": board_versions.get("hat_serial", ""),
            "rpi_machine": system.machine_model(),
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def set_versions(self, value: Any) -> None:
        """Merge the known keys (an update publishes the new app version here)."""
        if not isinstance(value, dict):
            raise ValueError("versions must be a JSON object, e.g. {\"app\": \"26.11.0\"}")
        self.versions = self.versions | {k: v for k, v in value.items() if k in VERSION_KEYS}

    # -- life --------------------------------------------------------------------------------
    def on_ready(self) -> None:
        self._checks.start()
        if self._button_thread is not None and not self._button_thread.is_alive():
            self._button_thread.start()
        self.status_led.flicker_okay()

    def on_disconnected(self) -> None:
        self._stopping.set()
        self._checks.cancel()
        self.supervisor.stop()
        self.status_led.hold(False)

    # -- health ------------------------------------------------------------------------------
    def check_health(self) -> None:
        problems = self.problems
        health.check_broker(problems, self.bus.connected.is_set(), f"{self.broker[0]}:{self.broker[1]}")
        address = system.ipv4(*self.broker)
        health.check_network(problems, address)
        if address and address != self.ipv4:
            self.ipv4 = address
        self.computer_statistics = health.check_computer(problems, self.limits, storage_dir(), self.cpu, self.board)
        volts = health.check_power(problems, self.limits, self.board)
        if volts is not None:
            self.voltage_on_pwm_rail = Voltage(timestamp=datetime.now(UTC), voltage=round(volts, 3))
        health.check_hat(problems, self.board)
        leader, skew = self._clock_skew()
        if skew is not None:
            self.clock_skew_seconds = round(skew, 3)
        health.check_clock(problems, self.limits, skew, leader)

    def _clock_skew(self) -> tuple[str, float | None]:
        """Seconds this unit's clock is ahead of the leader's (0 on the leader itself)."""
        leader = get_leader_hostname()
        if am_i_leader():
            return leader, 0.0
        config = get_config()
        port = config.get(SECTION, "leader_web_port", fallback="").strip() or config.get("web", "port", fallback="80")
        try:
            before = datetime.now(UTC)
            theirs = system.leader_clock(leader, int(port))
            after = datetime.now(UTC)
        except Exception as err:
            self.problems.report("leader_clock", f"Cannot read the leader's clock ({leader}:{port}): {err}.", level="debug")
            return leader, None
        self.problems.report("leader_clock", None)
        ours = before + (after - before) / 2
        return leader, (ours - theirs).total_seconds()

    # -- jobs --------------------------------------------------------------------------------
    def _on_job_state(self, message: Message) -> None:
        if message.text().strip() == self.LOST:
            self.supervisor.poke()

    # -- status LED and button ---------------------------------------------------------------
    def _on_flicker_okay(self, message: Message) -> None:
        self.status_led.flicker_okay()

    def _on_error_code(self, message: Message) -> None:
        try:
            code = int(message.text().strip())
        except ValueError:
            self.logger.debug("Ignoring error code %r: not a number.", message.text()[:20])
            return
        self.status_led.blink_error_code(code)

    def _watch_button(self) -> None:
        while not self._stopping.wait(BUTTON_POLL_SECONDS):
            pressed = bool(health._ask(self.board, "button_pressed"))
            if pressed != self.button_down:
                self.button_down = pressed
                self.status_led.hold(pressed)
