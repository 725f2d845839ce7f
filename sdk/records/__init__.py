"""Old home of the core sinks' parsers: each now lives beside its plugin and is exported by that
plugin's ``api`` module (``od_reading`` by :mod:`pioreactor.plugins_core.od_reading.api`, ...);
the names still import from here."""

from pioreactor.sdk import _forwarder

__getattr__ = _forwarder(
    __name__,
    "pioreactor.plugins_core.data.api",
    "pioreactor.plugins_core.od_reading.api",
    "pioreactor.plugins_core.growth_rate.api",
    "pioreactor.plugins_core.temperature.api",
    "pioreactor.plugins_core.stirring.api",
    "pioreactor.plugins_core.leds.api",
    "pioreactor.plugins_core.pumps.api",
    "pioreactor.plugins_core.dosing.api",
)
