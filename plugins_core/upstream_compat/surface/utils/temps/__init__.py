"""``pioreactor.utils.temps``: the HAT's temperature sensor, through the hardware backend."""

from pioreactor.utils.mock import MockTMP1075 as TMP1075

__all__ = ["TMP1075"]
