"""{{ cookiecutter.description }}.

Hook implementations only: `pio` imports this module whenever it loads plugins, so keep it
free of heavy imports. Targets are "module:attribute" strings, imported when they are used.
"""

from pioreactor.sdk import hookimpl

JOB = "{{ cookiecutter.underscored }}"


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(JOB, "pioreactor_{{ cookiecutter.underscored }}.job:{{ cookiecutter.class_name }}", summary={{ cookiecutter.description | tojson }})


@hookimpl
def pioreactor_register_config_defaults(defaults):
    # users override these in config.ini or unit_config.ini, under [{{ cookiecutter.underscored }}.config]
    defaults.section(f"{JOB}.config", {"duty_cycle": 50.0, "pwm_hz": 100.0})
{%- if cookiecutter.include_automation == "yes" %}


@hookimpl
def pioreactor_register_automations(registry):
    # run it with: pio run led_automation --automation-name {{ cookiecutter.underscored }}_pulse
    registry.add(
        "led",
        "{{ cookiecutter.underscored }}_pulse",
        "pioreactor_{{ cookiecutter.underscored }}.automation:Pulse",
        summary="Switch an LED on and off, one period each",
    )
{%- endif %}
{%- if cookiecutter.include_dataset == "yes" %}


# -- the leader's database: a table, what fills it, and the dataset exports offer ---------------
TABLE = f"{JOB}_duty_cycles"


@hookimpl
def pioreactor_register_database_tables(registry):
    # migrations are append-only: to change the table later, add a script at the end of the list
    registry.add(
        TABLE,
        migrations=[
            f"CREATE TABLE IF NOT EXISTS {TABLE} (experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, "
            "timestamp TEXT NOT NULL, duty_cycle REAL NOT NULL)"
        ],
        summary="Each duty cycle the job was set to",
    )


@hookimpl
def pioreactor_register_mqtt_sinks(registry):
    registry.add(
        TABLE,
        topics=f"pioreactor/+/+/{JOB}/duty_cycle",
        parser="pioreactor_{{ cookiecutter.underscored }}.data:duty_cycle_row",
        table=TABLE,
        timestamped=False,  # the payload is a bare number: rows get the time it was received
    )


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add(
        TABLE,
        table=TABLE,
        display_name="{{ cookiecutter.plugin_name }}: duty cycles",
        description="Each duty cycle the {{ cookiecutter.underscored }} job was set to.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
        column_units={"duty_cycle": "%"},
    )
{%- endif %}


@hookimpl
def pioreactor_register_ui_descriptors(registry):
    registry.add_job(
        {
            "job_name": JOB,
            "display_name": "{{ cookiecutter.plugin_name }}",
            "description": {{ cookiecutter.description | tojson }},
            "fields": [
                {
                    "key": "duty_cycle",
                    "label": "Duty cycle",
                    "type": "float",
                    "default": 50.0,
                    "unit": "%",
                    "settable": True,  # editable while the job runs
                },
            ],
        }
    )
{%- if cookiecutter.include_automation == "yes" %}
    registry.add_automation(
        {
            "automation_name": "{{ cookiecutter.underscored }}_pulse",
            "kind": "led",
            "display_name": "Pulse an LED",
            "description": "Switch an LED on and off, one period each.",
            "fields": [
                {"key": "channel", "type": "string", "default": "D", "choices": ["B", "C", "D"]},
                {"key": "intensity", "type": "float", "default": 20.0, "unit": "%", "settable": True},
            ],
        }
    )
{%- endif %}
    registry.add_chart(
        {
            "chart_key": f"{JOB}_duty_cycle",
            "title": "{{ cookiecutter.plugin_name }}",
            "topic": f"{JOB}/duty_cycle",
            "y_axis_label": "Duty cycle (%)",
{%- if cookiecutter.include_dataset == "yes" %}
            "table": TABLE,
            "column": "duty_cycle",
{%- endif %}
        }
    )
