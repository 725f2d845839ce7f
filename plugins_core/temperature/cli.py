from pioreactor.sdk.automations import automation_command

temperature_automation = automation_command("temperature")
