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
    "pioreactor_unit_labels": (
        "Each unit's label in an experiment (the latest row is the current one)",
        "CREATE TABLE IF NOT EXISTS pioreactor_unit_labels (experiment TEXT NOT NULL, pioreactor_unit TEXT NOT NULL, "
        "label TEXT NOT NULL, created_at TEXT NOT NULL);\n"
        "CREATE INDEX IF NOT EXISTS pioreactor_unit_labels_by_unit "
        "ON pioreactor_unit_labels (experiment, pioreactor_unit, created_at)",
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
