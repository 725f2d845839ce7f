"""LEDs: the ``led_intensity`` action, the ``led_automation`` job and its automations."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.reserve("leds", "led_change_events")  # the LEDs' state and change topics, as upstream
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


# -- the leader's database: each time series declared once (table, sink, dataset) ---------------
@hookimpl
def pioreactor_register_timeseries(registry):
    from pioreactor.sdk.automations.events import add_automation_events

    add_automation_events(registry, "led", "What the LED automation did at each run.")
    registry.add(
        "led_change_events",
        topics="pioreactor/+/+/led_change_events",
        parser="pioreactor.plugins_core.leds.records:led_change_event",
        columns={"channel": "TEXT NOT NULL", "intensity": "REAL NOT NULL", "source_of_event": "TEXT"},
        key=["channel"],
        units={"intensity": "%"},
        description="Each change of an LED's intensity, and what changed it.",
        # each intensity holds until the next change: drawn as steps, one series per channel
        chart={
            "chart_key": "led_intensities",
            "title": "LED intensities",
            "topic": "led_change_events",
            "payload_key": "intensity",
            "y_axis_label": "Intensity, %",
            "column": "intensity",
            "interpolation": "stepAfter",
        },
    )


# -- what a user interface shows -----------------------------------------------------------------
@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_automation(
        {
            "automation_name": "light_dark_cycle",
            "kind": "led",
            "display_name": "Light/dark cycle",
            "description": "Alternate light and dark periods on LEDs C and D.",
            "fields": [
                {"key": "light_intensity", "label": "Light intensity", "type": "float", "default": 50.0, "unit": "%", "settable": True},
                {"key": "light_duration_minutes", "label": "Light duration", "type": "integer", "default": 16, "unit": "min", "settable": True},
                {"key": "dark_duration_minutes", "label": "Dark duration", "type": "integer", "default": 8, "unit": "min", "settable": True},
            ],
        }
    )
