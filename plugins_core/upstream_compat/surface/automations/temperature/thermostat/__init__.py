"""``pioreactor.automations.temperature.thermostat``: the temperature plugin's ``Thermostat``.

Plugins raise its ``MAX_TARGET_TEMP`` class attribute (upstream's high-temperature plugin does),
and the running thermostat accepts targets up to it.
"""

from pioreactor.plugins_core.temperature.api import Thermostat

__all__ = ["Thermostat"]
