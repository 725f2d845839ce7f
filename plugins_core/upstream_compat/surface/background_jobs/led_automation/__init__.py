"""``pioreactor.background_jobs.led_automation``: upstream's ``LEDAutomationJob``."""

from pioreactor.automations.led.base import LEDAutomationJob

__all__ = ["LEDAutomationJob"]
