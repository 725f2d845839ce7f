"""LEDs: the ``led_intensity`` action, the ``led_automation`` job and its automations."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("led_intensity", "pioreactor.plugins_core.leds.action:led_intensity", summary="Set LED intensities (A-D)")
    registry.add(
        "led_automation",
        "pioreactor.plugins_core.leds.cli:led_automation",
        summary="Drive the LEDs with an automation (e.g. light_dark_cycle)",
    )


@hookimpl
def pioreactor_register_automations(registry):
    registry.add(
        "led",
        "light_dark_cycle",
        "pioreactor.plugins_core.leds.light_dark_cycle:LightDarkCycle",
        summary="Alternate light and dark periods on LEDs C and D",
    )
    registry.add("led", "silent", "pioreactor.plugins_core.leds.silent:Silent", summary="Do nothing")


@hookimpl
def pioreactor_register_config_defaults(defaults):
    # which LED channel drives what; one of them must be IR for optical density
    defaults.section("leds", {"A": "IR", "B": "white_light", "C": "", "D": ""})


@hookimpl
def pioreactor_all_jobs_stopped(unit):
    from pioreactor.plugins_core.leds.action import all_leds_off

    all_leds_off()
