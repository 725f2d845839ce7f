"""What other plugins use of the monitor: ask it to blink an error code or the okay pattern, and
add checks to ``pio run self_test``.

``blink_error_code(error_codes.DISK_IS_ALMOST_FULL)`` publishes on
``pioreactor/<unit>/<experiment>/monitor/flicker_led_with_error_code``; the unit's monitor
blinks the code on the status LED (a long flash, then N short ones).

A plugin adds a self-test check when it is imported::

    from pioreactor.plugins_core.monitor.api import Bench, CheckFailed, register_self_test

    def test_my_sensor_answers(bench: Bench) -> None:
        if not my_sensor_is_there():
            raise CheckFailed("my sensor does not answer: is it plugged in?")

    register_self_test(test_my_sensor_answers)
"""

from __future__ import annotations

from pioreactor.plugins_core.monitor import error_codes
from pioreactor.plugins_core.monitor.self_test_checks import Bench, CheckFailed, register_self_test
from pioreactor.sdk import UNIVERSAL_EXPERIMENT, get_bus, get_unit_name

__all__ = ["Bench", "CheckFailed", "blink_error_code", "error_codes", "flicker_okay", "register_self_test"]


def blink_error_code(code: int, *, unit: str | None = None, experiment: str = UNIVERSAL_EXPERIMENT) -> None:
    """Ask the unit's monitor to blink ``code`` (one of ``error_codes``) on its status LED."""
    unit = unit or get_unit_name()
    get_bus().publish(f"pioreactor/{unit}/{experiment}/monitor/flicker_led_with_error_code", str(int(code)), qos=1)


def flicker_okay(*, unit: str | None = None, experiment: str = UNIVERSAL_EXPERIMENT) -> None:
    """The "I am here" pattern (upstream's ``pio blink``)."""
    unit = unit or get_unit_name()
    get_bus().publish(f"pioreactor/{unit}/{experiment}/monitor/flicker_led_response_okay", "1", qos=1)
