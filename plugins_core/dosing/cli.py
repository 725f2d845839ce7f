from pioreactor.sdk.automations import automation_command

dosing_automation = automation_command("dosing")
