"""Old home of experiments: its names now live in :mod:`pioreactor.plugins_core.data.api` and :mod:`pioreactor.sdk`, and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.data.api", "pioreactor.sdk")
