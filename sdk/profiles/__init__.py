"""Old home of ProfileActionContext: it now lives in :mod:`pioreactor.plugins_core.profiles.api`, and still imports from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.profiles.api")
