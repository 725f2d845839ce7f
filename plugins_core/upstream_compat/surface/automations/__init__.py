"""``pioreactor.automations``: upstream's automation bases (``dosing.base``, ``led.base``,
``temperature.base``) and ``events``."""
