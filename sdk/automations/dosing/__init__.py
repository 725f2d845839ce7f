"""Old home of the dosing automation base: its names now live in :mod:`pioreactor.plugins_core.dosing.api`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.dosing.api")
