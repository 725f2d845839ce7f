"""Old home of the core sinks' parsers: its names now live in :mod:`pioreactor.plugins_core.data.api`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.data.api")
