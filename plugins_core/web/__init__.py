"""The web API: ``pio run web_server`` serves ``/unit_api`` on every unit and ``/api`` on the
leader, from the routes that plugins register (``pioreactor_register_web_routes``).

Route modules of other plugins use :mod:`pioreactor.plugins_core.web.api`.
"""

from pioreactor.sdk import hookimpl

PACKAGE = "pioreactor.plugins_core.web"
ROUTES = f"{PACKAGE}.routes"
WRITE = ("POST", "PATCH")

# (scope, rule, methods, target): the routes of the web plugin itself
CORE_ROUTES: list[tuple[str, str, tuple[str, ...], str]] = [
    # -- every unit ---------------------------------------------------------------------------
    ("unit_api", "/health", ("GET",), f"{ROUTES}.system:health"),
    ("unit_api", "/versions/app", ("GET",), f"{ROUTES}.system:versions_app"),
    ("unit_api", "/versions", ("GET",), f"{ROUTES}.system:versions"),
    ("unit_api", "/system/utc_clock", ("GET",), f"{ROUTES}.system:utc_clock"),
    ("unit_api", "/task_results/<task_id>", ("GET",), f"{ROUTES}.system:task_result"),
    ("unit_api", "/system/disk_space", ("GET",), f"{ROUTES}.system:disk_space"),
    ("unit_api", "/system/memory", ("GET",), f"{ROUTES}.system:memory"),
    ("unit_api", "/system/ipv4", ("GET",), f"{ROUTES}.system:ipv4"),
    ("unit_api", "/system/web_server/status", ("GET",), f"{ROUTES}.system:web_server_status"),
    ("unit_api", "/system/path/", ("GET",), f"{ROUTES}.files:browse"),
    ("unit_api", "/system/path/<path:req_path>", ("GET",), f"{ROUTES}.files:browse"),
    ("unit_api", "/versions/ui", ("GET",), f"{ROUTES}.system:versions_ui"),
    ("unit_api", "/jobs/run/job_name/<job_name>", WRITE, f"{ROUTES}.jobs:run_job"),
    ("unit_api", "/jobs/stop", WRITE, f"{ROUTES}.jobs:stop_jobs"),
    ("unit_api", "/jobs/stop/all", WRITE, f"{ROUTES}.jobs:stop_all_jobs"),
    ("unit_api", "/jobs/update/job_name/<job_name>", ("PATCH", "POST"), f"{ROUTES}.jobs:update_job"),
    ("unit_api", "/jobs", ("GET",), f"{ROUTES}.jobs:job_history"),
    ("unit_api", "/jobs/running", ("GET",), f"{ROUTES}.jobs:running_jobs"),
    ("unit_api", "/jobs/running/<job_name>", ("GET",), f"{ROUTES}.jobs:running_job"),
    ("unit_api", "/jobs/running/experiments/<experiment>", ("GET",), f"{ROUTES}.jobs:running_in_experiment"),
    ("unit_api", "/long_running_jobs/running", ("GET",), f"{ROUTES}.jobs:long_running_jobs"),
    ("unit_api", "/jobs/settings/job_name/<job_name>", ("GET",), f"{ROUTES}.jobs:job_settings"),
    ("unit_api", "/jobs/settings/job_name/<job_name>/setting/<setting>", ("GET",), f"{ROUTES}.jobs:job_setting"),
    ("unit_api", "/config/merged", ("GET",), f"{ROUTES}.config:merged_config_view"),
    ("unit_api", "/config/specific", ("GET",), f"{ROUTES}.config:get_specific_here"),
    ("unit_api", "/config/specific", ("PUT", "PATCH", "POST"), f"{ROUTES}.config:put_specific_here"),
    ("unit_api", "/config/shared", ("GET",), f"{ROUTES}.config:get_shared"),
    ("unit_api", "/config/shared", ("PUT", "PATCH", "POST"), f"{ROUTES}.config:put_shared_here"),
    # -- the leader (the inventory itself, /workers and /units, is the cluster plugin's) ----
    ("api", "/workers/<pioreactor_unit>/experiment", ("GET",), f"{ROUTES}.inventory:worker_experiment"),
    ("api", "/models", ("GET",), f"{ROUTES}.system:models"),
    ("api", "/workers/<pioreactor_unit>/model", ("GET",), f"{ROUTES}.system:unit_model"),
    ("api", "/workers/<pioreactor_unit>/model", ("PUT",), f"{ROUTES}.system:set_unit_model"),
    ("api", "/workers/<pioreactor_unit>/blink", ("POST",), f"{ROUTES}.system:blink"),
    ("api", "/local_access_point", ("GET",), f"{ROUTES}.system:local_access_point"),
    ("api", "/is_local_access_point_active", ("GET",), f"{ROUTES}.system:local_access_point"),
    ("api", "/units/<pioreactor_unit>/versions/app", ("GET",), f"{ROUTES}.system:unit_versions_app"),
    ("api", "/units/<pioreactor_unit>/system/utc_clock", ("GET",), f"{ROUTES}.system:unit_utc_clock"),
    ("api", "/config/shared", ("GET",), f"{ROUTES}.config:get_shared"),
    ("api", "/config/shared", ("PUT", "PATCH"), f"{ROUTES}.config:put_shared"),
    ("api", "/config/shared/history", ("GET",), f"{ROUTES}.config:shared_history"),
    # upstream 25.11's names for the same files (config.ini, config_<unit>.ini)
    ("api", "/configs", ("GET",), f"{ROUTES}.config:list_config_files"),
    ("api", "/configs/<filename>", ("GET",), f"{ROUTES}.config:get_config_file"),
    ("api", "/configs/<filename>", ("PATCH", "PUT"), f"{ROUTES}.config:put_config_file"),
    ("api", "/configs/<filename>/history", ("GET",), f"{ROUTES}.config:config_file_history"),
    ("api", "/config/units/<pioreactor_unit>", ("GET",), f"{ROUTES}.config:unit_configs"),
    ("api", "/workers/<pioreactor_unit>/configuration", ("GET",), f"{ROUTES}.config:unit_merged_config"),
    ("api", "/units/<pioreactor_unit>/configuration", ("GET",), f"{ROUTES}.config:unit_merged_config"),
    ("api", "/config/units/<pioreactor_unit>/specific", ("GET",), f"{ROUTES}.config:get_specific"),
    ("api", "/config/units/<pioreactor_unit>/specific", ("PUT", "PATCH"), f"{ROUTES}.config:put_specific"),
    ("api", "/config/units/<pioreactor_unit>/specific/history", ("GET",), f"{ROUTES}.config:specific_history"),
    ("api", "/config/zipped", ("GET",), f"{ROUTES}.config:zipped"),
]
# jobs on a unit through the leader: /api/workers/<u>/... and its /api/units/<u>/... twin
for _prefix in ("/workers/<pioreactor_unit>", "/units/<pioreactor_unit>"):
    CORE_ROUTES += [
        ("api", f"{_prefix}/jobs/run/job_name/<job_name>/experiments/<experiment>", WRITE, f"{ROUTES}.jobs:api_run_job"),
        ("api", f"{_prefix}/jobs/stop/job_name/<job_name>/experiments/<experiment>", WRITE, f"{ROUTES}.jobs:api_stop_job"),
        ("api", f"{_prefix}/jobs/stop/experiments/<experiment>", WRITE, f"{ROUTES}.jobs:api_stop_experiment"),
        ("api", f"{_prefix}/jobs/stop", WRITE, f"{ROUTES}.jobs:api_stop_all"),
        ("api", f"{_prefix}/jobs/update/job_name/<job_name>/experiments/<experiment>", ("PATCH", "POST"), f"{ROUTES}.jobs:api_update_job"),
        ("api", f"{_prefix}/jobs/running", ("GET",), f"{ROUTES}.jobs:api_running_jobs"),
        ("api", f"{_prefix}/jobs/settings/job_name/<job_name>/experiments/<experiment>", ("GET",), f"{ROUTES}.jobs:api_job_settings"),
        (
            "api",
            f"{_prefix}/jobs/settings/job_name/<job_name>/setting/<setting>/experiments/<experiment>",
            ("GET",),
            f"{ROUTES}.jobs:api_job_setting",
        ),
    ]


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add("web_server", f"{PACKAGE}.server:WebServer", summary="Serve the web API and UI of this unit")


@hookimpl
def pioreactor_register_commands(registry):
    registry.add("web", f"{PACKAGE}.cli:web", summary="Web server users, tokens and the route list.")


@hookimpl
def pioreactor_register_web_routes(registry):
    for scope, rule, methods, target in CORE_ROUTES:
        registry.add(rule, target, methods=methods, scope=scope)


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section(
        "web",
        {
            "host": "0.0.0.0",
            # upstream serves the UI on port 80 (lighttpd); tests and the demo pick a free port
            "port": 80,
            # waitress threads: the UI opens a page with a dozen calls at once
            "threads": 8,
            "task_workers": 4,
            # none, basic (pio web add-user) or token (pio web new-token)
            "auth": "none",
            # other origins allowed to write (comma-separated, e.g. http://pioreactor.local:3000)
            "allowed_origins": "",
            "max_body_mb": 16.0,
            "job_start_burst": 10.0,
            "job_starts_per_second": 2.0,
            # empty: the UI built into the package (ui_dist/); else a folder with index.html and static files
            "ui_folder": "",
            # empty: $PIO_HOME/exports (served under /exports/)
            "exports_folder": "",
        },
    )
    # the browser reads live data from Mosquitto over WebSockets
    defaults.section("mqtt", {"broker_ws_port": 9001, "ws_protocol": "ws"})
