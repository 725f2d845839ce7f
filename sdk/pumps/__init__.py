"""Old home of pumps and dosing: its names now live in :mod:`pioreactor.plugins_core.pumps.api` and :mod:`pioreactor.sdk.plugins`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.pumps.api", "pioreactor.sdk.plugins")
