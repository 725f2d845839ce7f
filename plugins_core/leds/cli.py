from pioreactor.sdk.automations import automation_command

led_automation = automation_command("led")
