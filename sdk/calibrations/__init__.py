"""Old home of the calibration curves: its names now live in :mod:`pioreactor.plugins_core.calibrations.api` (``CalibratedODReading`` in :mod:`pioreactor.plugins_core.od_reading.api`), and still import from here."""
from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(__name__, "pioreactor.plugins_core.calibrations.api", "pioreactor.plugins_core.od_reading.api")
