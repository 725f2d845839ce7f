"""Data on the leader: ``mqtt_to_db_streaming``, ``pio experiments``, ``export_experiment_data``,
``backup_database``, and the tables they need (experiments, logs, dead letters). The other
plugins declare their own time series (``pioreactor_register_timeseries``).
"""

from pioreactor.sdk import hookimpl

PACKAGE = "pioreactor.plugins_core.data"
RECORDS = "pioreactor.plugins_core.data.records"
UNIT_EXPERIMENT = "experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, timestamp TEXT NOT NULL"

TABLES = {
    "experiments": (
        "Experiments: name, creation time, description",
        "CREATE TABLE IF NOT EXISTS experiments (experiment TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
        "description TEXT NOT NULL DEFAULT '', media_used TEXT, organism_used TEXT)",
    ),
    "experiment_worker_assignments": (
        "Which experiment each unit works for",
        "CREATE TABLE IF NOT EXISTS experiment_worker_assignments (pioreactor_unit TEXT PRIMARY KEY, "
        "experiment TEXT NOT NULL REFERENCES experiments (experiment) ON DELETE CASCADE, assigned_at TEXT NOT NULL)",
    ),
    "logs": (
        "Log records of every unit (pioreactor/<unit>/<experiment>/logs/...)",
        f"CREATE TABLE IF NOT EXISTS logs ({UNIT_EXPERIMENT}, message TEXT NOT NULL, task TEXT NOT NULL, "
        "level TEXT NOT NULL, source TEXT NOT NULL, "
        "UNIQUE (experiment, timestamp, pioreactor_unit, task, level, message));\n"
        "CREATE INDEX IF NOT EXISTS logs_by_time ON logs (timestamp)",
    ),
    "experiment_worker_assignments_history": (
        "Every unit that worked for an experiment, with when it joined and left (kept by triggers)",
        "CREATE TABLE IF NOT EXISTS experiment_worker_assignments_history (pioreactor_unit TEXT NOT NULL, "
        "experiment TEXT NOT NULL, assigned_at TEXT NOT NULL, unassigned_at TEXT);\n"
        "CREATE TRIGGER IF NOT EXISTS assignment_opened AFTER INSERT ON experiment_worker_assignments BEGIN "
        "INSERT INTO experiment_worker_assignments_history VALUES (NEW.pioreactor_unit, NEW.experiment, "
        "NEW.assigned_at, NULL); END;\n"
        "CREATE TRIGGER IF NOT EXISTS assignment_moved AFTER UPDATE OF experiment ON experiment_worker_assignments "
        "WHEN OLD.experiment != NEW.experiment BEGIN "
        "UPDATE experiment_worker_assignments_history SET unassigned_at = NEW.assigned_at "
        "WHERE pioreactor_unit = OLD.pioreactor_unit AND experiment = OLD.experiment AND unassigned_at IS NULL; "
        "INSERT INTO experiment_worker_assignments_history VALUES (NEW.pioreactor_unit, NEW.experiment, "
        "NEW.assigned_at, NULL); END;\n"
        "CREATE TRIGGER IF NOT EXISTS assignment_closed AFTER DELETE ON experiment_worker_assignments BEGIN "
        "UPDATE experiment_worker_assignments_history SET unassigned_at = strftime('%Y-%m-%dT%H:%M:%f000Z', 'now') "
        "WHERE pioreactor_unit = OLD.pioreactor_unit AND experiment = OLD.experiment AND unassigned_at IS NULL; END",
    ),
    "pioreactor_unit_labels": (
        "A label for each unit in an experiment (shown on charts and cards)",
        "CREATE TABLE IF NOT EXISTS pioreactor_unit_labels (experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, "
        "label TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (experiment, pioreactor_unit))",
    ),
    "experiment_chart_preferences": (
        "The charts chosen for an experiment's pages in the UI",
        "CREATE TABLE IF NOT EXISTS experiment_chart_preferences (experiment TEXT PRIMARY KEY, "
        "overview_chart_keys TEXT, pioreactor_chart_keys TEXT, updated_at TEXT NOT NULL)",
    ),
    "mqtt_dead_letters": (
        "Messages that could not be stored, with the reason",
        "CREATE TABLE IF NOT EXISTS mqtt_dead_letters (received_at TEXT NOT NULL, topic TEXT NOT NULL, "
        "payload BLOB, sink TEXT NOT NULL, error TEXT NOT NULL)",
    ),
    "mqtt_receipts": (
        "Fingerprints of stored messages that carry no timestamp, to recognise redeliveries",
        "CREATE TABLE IF NOT EXISTS mqtt_receipts (fingerprint BLOB PRIMARY KEY, received_at TEXT NOT NULL) "
        "WITHOUT ROWID",
    ),
}
#: each automation's settings when it starts, at each change and when it ends (upstream's tables;
#: not time series: their rows have a start and an end rather than a timestamp)
AUTOMATION_KINDS = ("dosing", "led", "temperature")
for _kind in AUTOMATION_KINDS:
    TABLES[f"{_kind}_automation_settings"] = (
        f"The {_kind} automation's settings over time",
        f"CREATE TABLE IF NOT EXISTS {_kind}_automation_settings (pioreactor_unit TEXT NOT NULL, "
        "experiment TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, automation_name TEXT NOT NULL, "
        "settings TEXT NOT NULL);\n"
        f"CREATE INDEX IF NOT EXISTS {_kind}_automation_settings_by_start "
        f"ON {_kind}_automation_settings (experiment, started_at)",
    )


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "mqtt_to_db_streaming",
        f"{PACKAGE}.streamer:MqttToDBStreamer",
        summary="Store what the cluster publishes in the leader's database",
    )
    registry.add(
        "export_experiment_data",
        f"{PACKAGE}.export:export_experiment_data",
        summary="Export an experiment's datasets as a zip of CSV files",
    )
    registry.add(
        "backup_database",
        f"{PACKAGE}.backup:backup_database",
        summary="Copy the database safely while it is in use",
    )


@hookimpl
def pioreactor_register_commands(registry):
    registry.add(
        "experiments",
        f"{PACKAGE}.experiments:experiments",
        summary="Create, list, assign and delete experiments.",
    )


@hookimpl
def pioreactor_register_database_tables(registry):
    for name, (summary, sql) in TABLES.items():
        registry.add(name, migrations=[sql], summary=summary)


@hookimpl
def pioreactor_register_mqtt_sinks(registry):
    registry.add("logs", topics="pioreactor/+/+/logs/#", parser=f"{RECORDS}:log", summary="Log records")
    registry.add(
        "pioreactor_unit_labels",
        topics="pioreactor/+/+/unit_label",
        parser=f"{RECORDS}:unit_label",
        timestamped=False,
        summary="Unit labels (set by profiles or `pio experiments label`)",
    )
    for kind in AUTOMATION_KINDS:
        registry.add(
            f"{kind}_automation_settings",
            topics=f"pioreactor/+/+/{kind}_automation/{kind}_automation_settings",
            parser=f"{RECORDS}:automation_settings",
            timestamped=False,  # redeliveries are recognised by their fingerprint
            summary=f"The {kind} automation's settings",
        )


@hookimpl
def pioreactor_register_export_datasets(registry):
    registry.add(
        "experiments",
        table="experiments",
        description="The experiment: when it was created and its description.",
        has_unit=False,
        timestamp_columns=["created_at"],
        default_order_by="created_at",
    )
    registry.add(
        "logs",
        table="logs",
        description="Log records of every unit and job: what happened, with its level and source.",
        timestamp_columns=["timestamp"],
        default_order_by="timestamp",
    )
    registry.add(
        "pioreactor_unit_labels",
        table="pioreactor_unit_labels",
        description="The label each unit had in the experiment, and when it was given.",
        timestamp_columns=["created_at"],
        default_order_by="created_at",
    )
    for kind in AUTOMATION_KINDS:
        registry.add(
            f"{kind}_automation_settings",
            table=f"{kind}_automation_settings",
            description=f"The {kind} automation's settings: at its start, at each change, and at its end.",
            timestamp_columns=["started_at", "ended_at"],
            default_order_by="started_at",
            column_descriptions={"settings": "the settings as JSON, base64-encoded (upstream's format)"},
        )


EXPERIMENTS = f"{PACKAGE}.web_experiments"
LOGS = f"{PACKAGE}.web_logs"
WEB_ROUTES = [
    ("/experiments", ("GET",), f"{EXPERIMENTS}:list_experiments"),
    ("/experiments", ("POST",), f"{EXPERIMENTS}:create"),
    ("/experiments/latest", ("GET",), f"{EXPERIMENTS}:latest"),
    ("/experiments/active", ("GET",), f"{EXPERIMENTS}:active"),
    ("/experiments/assignment_count", ("GET",), f"{EXPERIMENTS}:assignment_count"),
    ("/experiments/<experiment>", ("GET",), f"{EXPERIMENTS}:get"),
    ("/experiments/<experiment>", ("PATCH",), f"{EXPERIMENTS}:patch"),
    ("/experiments/<experiment>", ("DELETE",), f"{EXPERIMENTS}:delete"),
    ("/experiments/<experiment>/workers", ("GET",), f"{EXPERIMENTS}:workers"),
    ("/experiments/<experiment>/workers", ("PUT", "POST"), f"{EXPERIMENTS}:assign_worker"),
    ("/experiments/<experiment>/workers", ("DELETE",), f"{EXPERIMENTS}:unassign_all"),
    ("/experiments/<experiment>/workers/<pioreactor_unit>", ("DELETE",), f"{EXPERIMENTS}:unassign_worker"),
    ("/experiments/<experiment>/historical_worker_assignments", ("GET",), f"{EXPERIMENTS}:historical_assignments"),
    ("/experiments/<experiment>/unit_labels", ("GET",), f"{EXPERIMENTS}:unit_labels"),
    ("/experiments/<experiment>/unit_labels", ("PUT", "PATCH"), f"{EXPERIMENTS}:set_unit_label"),
    ("/experiments/<experiment>/chart_preferences", ("GET",), f"{EXPERIMENTS}:chart_preferences"),
    ("/experiments/<experiment>/chart_preferences", ("PATCH", "PUT"), f"{EXPERIMENTS}:set_chart_preferences"),
    ("/workers/assignments", ("GET",), f"{EXPERIMENTS}:all_assignments"),
    ("/workers/assignments", ("DELETE",), f"{EXPERIMENTS}:unassign_everything"),
    ("/logs", ("GET",), f"{LOGS}:all_logs"),
    ("/experiments/<experiment>/logs", ("GET",), f"{LOGS}:experiment_logs"),
    ("/experiments/<experiment>/recent_logs", ("GET",), f"{LOGS}:recent_experiment_logs"),
    ("/units/<pioreactor_unit>/logs", ("GET",), f"{LOGS}:unit_logs"),
    ("/units/<pioreactor_unit>/system_logs", ("GET",), f"{LOGS}:unit_system_logs"),
]
for _prefix in ("/workers/<pioreactor_unit>", "/units/<pioreactor_unit>"):
    WEB_ROUTES += [
        (f"{_prefix}/experiments/<experiment>/logs", ("GET",), f"{LOGS}:unit_experiment_logs"),
        (f"{_prefix}/experiments/<experiment>/logs", ("POST",), f"{LOGS}:post_log"),
        (f"{_prefix}/experiments/<experiment>/recent_logs", ("GET",), f"{LOGS}:recent_unit_experiment_logs"),
    ]

# chart time series (down-sampled in SQL), media rates, exportable datasets
ROUTES = f"{PACKAGE}.routes"
for _prefix, _view in (("", "experiment_time_series"), ("/workers/<pioreactor_unit>", "unit_time_series")):
    _rule = f"{_prefix}/experiments/<experiment>/time_series/<data_source>"
    WEB_ROUTES += [(_rule, ("GET",), f"{ROUTES}:{_view}"), (f"{_rule}/<column>", ("GET",), f"{ROUTES}:{_view}_column")]
WEB_ROUTES.append(("/experiments/<experiment>/media_rates", ("GET",), f"{ROUTES}:media_rates"))
# 26.11's paths, then 25.11's
for _base, _export in (("/datasets/exportable", "/export"), ("/contrib/exportable_datasets", "/export_datasets")):
    WEB_ROUTES += [
        (_base, ("GET",), f"{ROUTES}:list_datasets"),
        (f"{_base}/<target_dataset>/preview", ("GET",), f"{ROUTES}:preview_dataset"),
        (f"{_base}{_export}", ("POST",), f"{ROUTES}:export_datasets"),
    ]


@hookimpl
def pioreactor_register_web_routes(registry):
    for rule, methods, target in WEB_ROUTES:
        registry.add(rule, target, methods=methods, scope="api")


@hookimpl
def pioreactor_register_config_defaults(defaults):
    defaults.section(
        "storage",
        {
            # empty: $PIO_HOME/storage/pioreactor.sqlite
            "database": "",
            # NORMAL survives any process crash; FULL also a power cut (each commit waits for the disk)
            "synchronous": "NORMAL",
            # empty: $PIO_HOME/storage/pioreactor.sqlite.backup
            "database_backup": "",
        },
    )
    defaults.section(
        "mqtt_to_db_streaming",
        {
            # the broker keeps this session's messages while the streamer is away: keep it stable
            "client_id": "",
            # messages written per transaction, at most (under load batches grow to this size)
            "max_batch_size": 20000,
        },
    )

