"""The cluster: the leader's inventory of workers (``pio workers``), commands across the whole
cluster (``pios``) and the leader's ``/api/workers`` routes.

Other plugins reach the workers through :mod:`pioreactor.plugins_core.cluster.api`.
"""

from pioreactor.sdk import hookimpl

PACKAGE = "pioreactor.plugins_core.cluster"

TABLES = {
    "workers": (
        "The leader's inventory: each worker, where it answers, and whether it is active",
        "CREATE TABLE IF NOT EXISTS workers (pioreactor_unit TEXT PRIMARY KEY, address TEXT NOT NULL, "
        "added_at TEXT NOT NULL, is_active INTEGER NOT NULL DEFAULT 1, model_name TEXT NOT NULL DEFAULT "
        "'pioreactor_40ml', model_version TEXT NOT NULL DEFAULT '1.5')",
    ),
    "workers_history": (
        "Every change to the inventory: added, removed, activated, deactivated (kept by triggers)",
        "CREATE TABLE IF NOT EXISTS workers_history (pioreactor_unit TEXT NOT NULL, event TEXT NOT NULL, "
        "at TEXT NOT NULL);\n"
        "CREATE TRIGGER IF NOT EXISTS worker_added AFTER INSERT ON workers BEGIN "
        "INSERT INTO workers_history VALUES (NEW.pioreactor_unit, 'added', NEW.added_at); END;\n"
        "CREATE TRIGGER IF NOT EXISTS worker_removed AFTER DELETE ON workers BEGIN "
        "INSERT INTO workers_history VALUES (OLD.pioreactor_unit, 'removed', "
        "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')); END;\n"
        "CREATE TRIGGER IF NOT EXISTS worker_activity AFTER UPDATE OF is_active ON workers "
        "WHEN OLD.is_active != NEW.is_active BEGIN "
        "INSERT INTO workers_history VALUES (NEW.pioreactor_unit, "
        "CASE NEW.is_active WHEN 1 THEN 'activated' ELSE 'deactivated' END, "
        "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')); END",
    ),
}

ROUTES = f"{PACKAGE}.routes"
# the leader's inventory routes (upstream's UI contract)
WEB_ROUTES: list[tuple[str, tuple[str, ...], str]] = [
    ("/workers", ("GET",), f"{ROUTES}:list_workers"),
    ("/workers", ("PUT", "POST"), f"{ROUTES}:add_worker"),
    ("/workers/discover", ("GET",), f"{ROUTES}:discover_workers"),
    ("/workers/<pioreactor_unit>", ("GET",), f"{ROUTES}:get_worker"),
    ("/workers/<pioreactor_unit>", ("DELETE",), f"{ROUTES}:remove_worker"),
    ("/workers/<pioreactor_unit>/is_active", ("PUT", "PATCH"), f"{ROUTES}:set_active"),
    ("/workers/<pioreactor_unit>/history", ("GET",), f"{ROUTES}:worker_history"),
    ("/units", ("GET",), f"{ROUTES}:list_units"),
    *[
        (f"{prefix}/system/{action}", ("POST",), f"{ROUTES}:api_{action}")
        for prefix in ("/units/<pioreactor_unit>", "/workers/<pioreactor_unit>")
        for action in ("reboot", "shutdown")
    ],
]
UNIT_ROUTES_MODULE = f"{PACKAGE}.unit_routes"
# what a unit does for its leader (pios reboot/shutdown/cp/rm)
UNIT_ROUTES: list[tuple[str, tuple[str, ...], str]] = [
    ("/system/reboot", ("POST",), f"{UNIT_ROUTES_MODULE}:reboot"),
    ("/system/shutdown", ("POST",), f"{UNIT_ROUTES_MODULE}:shutdown"),
    ("/system/files", ("PUT", "POST"), f"{UNIT_ROUTES_MODULE}:put_file"),
    ("/system/files", ("DELETE",), f"{UNIT_ROUTES_MODULE}:delete_file"),
]


@hookimpl
def pioreactor_register_database_tables(registry):
    for name, (summary, sql) in TABLES.items():
        registry.add(name, migrations=[sql], summary=summary)


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "cluster_follower",
        f"{PACKAGE}.follower:ClusterFollower",
        summary="On a worker: keep the leader's experiment assignment of this unit; refuse other leaders",
    )


@hookimpl
def pioreactor_register_commands(registry):
    registry.add("workers", f"{PACKAGE}.workers_cli:workers", summary="The leader's inventory of workers.")


@hookimpl
def pioreactor_register_web_routes(registry):
    for rule, methods, target in WEB_ROUTES:
        registry.add(rule, target, methods=methods, scope="api")
    for rule, methods, target in UNIT_ROUTES:
        registry.add(rule, target, methods=methods, scope="unit_api")


@hookimpl
def pioreactor_register_config_defaults(defaults):
    # the web server advertises its unit by mDNS, for `pio workers discover` on the leader
    defaults.section("mdns", {"advertise": 1})
    defaults.section(
        "pios",
        {
            # wall-clock seconds a worker has to answer before it is reported unreachable
            "request_timeout_seconds": 2.0,
            # parallel requests of pios and of the leader's fan-out
            "fan_out_threads": 16,
            # the port a worker's web server answers on when its address gives none
            "worker_port": 80,
            # `pio workers status` warns about a worker whose clock is further than this from the leader's
            "max_clock_skew_seconds": 5.0,
        },
    )
