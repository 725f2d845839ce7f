"""Old home of the temperature automation base: its names now live in :mod:`pioreactor.plugins_core.temperature.api`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.temperature.api")
