"""``pio run self_test [--retry-failed] [-k NAME]``: check the hardware with a vial of water.

It needs the unit to itself: it refuses to start while other jobs run, and other jobs refuse to
start while it runs (long-running ones, like the monitor, aside). Each check's result is
published retained on ``pioreactor/<unit>/_testing_<experiment>/self_test/<check>`` (1 or 0),
with ``.../self_test/all_tests_passed``, and kept in persistent storage (``self_test_results``)
for the UI and ``--retry-failed``. It exits 1 if a check failed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pioreactor.plugins_core.monitor.self_test_checks import Bench, CheckFailed, all_checks
from pioreactor.sdk import BackgroundJob, get_clock, get_config, get_hardware, local_persistent_storage

RESULTS = "self_test_results"
LED_CHANNELS = ("A", "B", "C", "D")


def stored_results() -> dict[str, dict[str, Any]]:
    """The last result of each check: ``{"passed": bool, "message": str, "timestamp": str}``."""
    with local_persistent_storage(RESULTS) as store:
        return {name: value for name, value in store.items() if isinstance(value, dict)}


class SelfTest(BackgroundJob):
    """Check the hardware (HAT, heater, photodiodes, LEDs, stirring) with a vial of water in the unit.

    :param retry_failed: Run only the checks that failed (or never ran) last time.
    :param k: Run only the checks whose name contains this text [default: all checks].
    """

    job_name = "self_test"
    exclusive = True

    def __init__(self, unit: str, experiment: str, *, retry_failed: bool = False, k: str | None = None) -> None:
        super().__init__(unit, experiment if experiment.startswith("_testing_") else f"_testing_{experiment}")
        self.checks = all_checks()  # plugins are loaded by now: theirs are in
        self.names = self._choose(retry_failed, k)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._started = False

    def _choose(self, retry_failed: bool, k: str | None) -> list[str]:
        names = list(self.checks)
        if k:
            names = [name for name in names if k.lower() in name.lower()]
            if not names:
                raise ValueError(f"no check's name contains {k!r}; the checks: {', '.join(self.checks)}")
        if retry_failed:
            last = stored_results()
            names = [name for name in names if not last.get(name, {}).get("passed", False)]
        return names

    def on_ready(self) -> None:
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._run_then_stop, name="self-test", daemon=True).start()

    def on_ready_to_sleeping(self) -> None:
        raise RuntimeError("self_test cannot pause; set $state to disconnected to stop it")

    def on_disconnected(self) -> None:
        self._stop.set()
        self._done.wait(30.0)  # the running check notices and puts its hardware down

    # -- running -----------------------------------------------------------------------------
    def _run_then_stop(self) -> None:
        try:
            self._run_all()
        except Exception as err:
            self.logger.exception("The self-test failed: %s", err)
            self.exit_code = 1
        finally:
            self._done.set()
        self.request_stop("done")

    def _bench(self) -> Bench:
        from pioreactor.plugins_core.leds.api import set_intensities

        hardware = get_hardware()
        board = hardware.board() if hasattr(hardware, "board") else None
        return Bench(
            hardware=hardware,
            board=board,
            config=get_config(),
            clock=get_clock(),
            hold=self.hold,
            set_leds=lambda leds: set_intensities(leds, source_of_event=self.job_name, experiment=self.experiment, verbose=False),
            stop=self._stop,
        )

    def _run_all(self) -> None:
        self._flicker_monitor_led()
        if not self.names:
            self.logger.info("No tests ran 🟡")
            return
        bench = self._bench()
        for name in self.names:  # forget the old answers of the checks about to run
            self.bus.publish(f"{self.topic_prefix}/{name}", None, qos=1, retain=True)
        failed = []
        for name in self.names:
            if self._stop.is_set():
                return
            passed, message = self._run_one(name, bench)
            if not passed:
                failed.append(name)
            self._record(name, passed, message)
        for key, value in bench.published.items():
            self.bus.publish(f"{self.topic_prefix}/{key}", json.dumps(value), qos=1, retain=True)
        everything = stored_results()
        all_passed = all(everything.get(name, {}).get("passed", False) for name in self.checks)
        self.bus.publish(f"{self.topic_prefix}/all_tests_passed", "1" if all_passed else "0", qos=1, retain=True)
        if failed:
            self.logger.warning("%d failed test(s) ❌", len(failed))
            self.exit_code = 1
        else:
            self.logger.info("All tests passed ✅")

    def _run_one(self, name: str, bench: Bench) -> tuple[bool, str]:
        self.logger.debug("Running %s.", name)
        try:
            self.checks[name](bench)
        except CheckFailed as err:
            message = str(err)
        except Exception as err:
            message = f"{type(err).__name__}: {err}"
        else:
            self.logger.debug("%s passed.", name)
            return True, ""
        finally:
            try:
                bench.set_leds({channel: 0.0 for channel in LED_CHANNELS})
            except Exception as err:
                self.logger.debug("Could not switch the LEDs off after %s: %s", name, err)
        self.logger.warning("%s: %s", name.removeprefix("test_").replace("_", " "), message)
        return False, message

    def _record(self, name: str, passed: bool, message: str) -> None:
        self.bus.publish(f"{self.topic_prefix}/{name}", "1" if passed else "0", qos=1, retain=True)
        with local_persistent_storage(RESULTS) as store:
            store[name] = {"passed": passed, "message": message, "timestamp": self.clock.utc_timestamp()}

    def _flicker_monitor_led(self) -> None:
        try:
            from pioreactor.plugins_core.monitor.api import flicker_okay

            flicker_okay(unit=self.unit)
        except Exception as err:
            self.logger.debug("Could not ask the monitor to flicker: %s", err)
