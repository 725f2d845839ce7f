"""Old home of the LEDs: its names now live in :mod:`pioreactor.plugins_core.leds.api`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.leds.api")
