"""Experiment profiles: YAML scripts of an experiment (``pio run experiment_profile``).

A profile starts, pauses, updates and stops jobs on a timeline, with conditions (``if``,
``when``), loops (``repeat``) and ``${{ ... }}`` expressions over inputs and live MQTT values.
Plugins add action types and expression functions through their own hooks.
"""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.reserve("unit_label")  # the label topic that profiles publish
    registry.add(
        "experiment_profile",
        "pioreactor.plugins_core.profiles.cli:experiment_profile",
        summary="Verify or execute an experiment profile (YAML)",
    )


@hookimpl
def pioreactor_register_database_tables(registry):
    from pioreactor.plugins_core.profiles.records import TABLE_SQL

    registry.add("experiment_profile_runs", migrations=[TABLE_SQL], summary="Runs of experiment profiles")


@hookimpl
def pioreactor_register_mqtt_sinks(registry):
    registry.add(
        "experiment_profile_runs",
        topics=["pioreactor/+/+/experiment_profile/+/experiment_profile_name"],
        parser="pioreactor.plugins_core.profiles.records:profile_run",
        timestamped=False,
        summary="Each run of a profile, when it starts",
    )


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add(
        "experiment_profile_runs",
        table="experiment_profile_runs",
        description="Each run of an experiment profile: its name, run id and when it started.",
        timestamp_columns=["started_at"],
        default_order_by="started_at",
    )


ROUTES = "pioreactor.plugins_core.profiles.routes"


@hookimpl
def pioreactor_register_web_routes(registry):
    # 26.11's paths, then 25.11's (/contrib/...)
    for base in ("/experiment_profiles", "/contrib/experiment_profiles"):
        registry.add(base, f"{ROUTES}:list_profiles", scope="api")
        registry.add(base, f"{ROUTES}:create_profile", methods=("POST",), scope="api")
        registry.add(f"{base}/<filename>", f"{ROUTES}:get_profile", scope="api")
        registry.add(f"{base}/<filename>", f"{ROUTES}:edit_profile", methods=("PATCH", "PUT"), scope="api")
        registry.add(f"{base}/<filename>", f"{ROUTES}:delete_profile", methods=("DELETE",), scope="api")
    registry.add("/contrib/experiment_profiles", f"{ROUTES}:edit_profile_legacy", methods=("PATCH",), scope="api")
    registry.add("/experiment_profiles/verify", f"{ROUTES}:verify_profile", methods=("POST",), scope="api")
    registry.add("/experiments/<experiment>/experiment_profiles/running", f"{ROUTES}:running_profiles", scope="api")
    registry.add("/experiment_profiles/running/experiments/<experiment>", f"{ROUTES}:running_profiles", scope="api")
    registry.add("/experiments/<experiment>/experiment_profiles/recent", f"{ROUTES}:recent_runs", scope="api")
    registry.add("/capabilities", f"{ROUTES}:unit_capabilities", scope="unit_api")
    for prefix in ("/units/<pioreactor_unit>", "/workers/<pioreactor_unit>"):
        registry.add(f"{prefix}/capabilities", f"{ROUTES}:api_capabilities", scope="api")
