"""Every hook a plugin can implement. Each name starts with ``pioreactor_``.

Registration hooks receive a registry scoped to the calling plugin: call its ``add`` methods
rather than returning lists, so that a name collision can name both plugins and nothing heavy
is imported just to list what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    from pioreactor.kernel.registries.data import (
        DatabaseTableRegistry,
        ExportDatasetRegistry,
        MqttSinkRegistry,
    )
    from pioreactor.kernel.registries.targets import (
        AutomationRegistry,
        CalibrationProtocolRegistry,
        CommandRegistry,
        ConfigDefaults,
        ExpressionFunctionRegistry,
        HardwareBackendRegistry,
        JobDefinitions,
        ProfileActionRegistry,
    )
    from pioreactor.kernel.registries.timeseries import TimeseriesRegistry
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry
    from pioreactor.kernel.registries.web import WebRouteRegistry

F = TypeVar("F", bound=Callable[..., Any])

hookspec = pluggy.HookspecMarker("pioreactor")

#: registration hook name -> the registry class (``"module:Class"``) its implementations fill
REGISTRATION_HOOKS: dict[str, str] = {}


def registration(registry_class: str) -> Callable[[F], F]:
    """Declare a registration hook and the registry class it fills (one row of the table)."""

    def declare(spec: F) -> F:
        REGISTRATION_HOOKS[spec.__name__] = f"pioreactor.kernel.registries.{registry_class}"
        return hookspec(spec)

    return declare




@hookspec(historic=True)
def pioreactor_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications of your own, so other plugins can implement hooks you call.

    Called as your plugin registers, before any other hook, as pytest's ``pytest_addhooks``
    is. Declare the specs in a module of your plugin with
    ``hookspec = pioreactor.sdk.hookspec`` and names that start with ``pioreactor_``; call them
    with :func:`pioreactor.sdk.call_hook`.

    :param pluginmanager: the pluggy plugin manager. Call
        ``pluginmanager.add_hookspecs(my_plugin.hookspecs)``.
    """


@registration("targets:JobDefinitions")
def pioreactor_register_jobs(registry: JobDefinitions) -> None:
    """Register the jobs and actions this plugin provides, so ``pio run NAME`` can start them.

    Called once per process, when ``pio run`` (or anything else that lists jobs) builds the job
    registry. Targets are ``"module:attribute"`` strings, imported only when that job runs or
    its own ``--help`` is shown, so keep this function free of heavy imports.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, "package.module:Attribute", summary="One line for pio run --help")``.
        The attribute is a :class:`pioreactor.sdk.BackgroundJob` subclass (its keyword-only
        ``__init__`` parameters become command-line options) or a ``click.Command``.
    """


@registration("targets:CommandRegistry")
def pioreactor_register_commands(registry: CommandRegistry) -> None:
    """Add top-level ``pio`` commands (usually click groups), e.g. ``pio calibrations``.

    Called when ``pio`` lists or runs its commands; ``pio --help`` shows them from the plugin
    index without importing them. Jobs belong in ``pioreactor_register_jobs`` instead.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, "package.module:command", summary="One line for pio --help")``;
        the target is a ``click.Command`` or ``click.Group``. Names of the kernel's own commands
        (``run``, ``kill``, ``jobs``, ``plugins``, ...) are refused.
    """


@registration("targets:AutomationRegistry")
def pioreactor_register_automations(registry: AutomationRegistry) -> None:
    """Register automations: the strategies a ``temperature_automation``, ``led_automation`` or
    ``dosing_automation`` job runs (``pio run temperature_automation --automation-name NAME``).

    Called when an automation job starts or lists its automations. The target class subclasses
    the SDK's base for its kind (:class:`pioreactor.sdk.automations.TemperatureAutomationJob`,
    :class:`~pioreactor.sdk.automations.LEDAutomationJob`, ...) and implements ``execute()``;
    its keyword-only ``__init__`` parameters become the automation's options.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(kind, name, "package.module:Class", summary="...")`` with ``kind`` one of
        ``temperature``, ``led``, ``dosing`` (or a kind another plugin introduced).
    """


@registration("targets:CalibrationProtocolRegistry")
def pioreactor_register_calibration_protocols(registry: CalibrationProtocolRegistry) -> None:
    """Register calibration protocols: the interactive assistants behind ``pio calibrations run``.

    Called when ``pio calibrations`` lists or runs protocols. The target class implements a
    protocol for one device (``media_pump``, ``stirring``, ``od90``, ... or a device a plugin
    adds) and returns the calibration it measured.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(device, protocol_name, "package.module:Class", summary="...")``.
    """


@registration("targets:ProfileActionRegistry")
def pioreactor_register_profile_actions(registry: ProfileActionRegistry) -> None:
    """Register experiment-profile action types beyond the built-in ones
    (``start``, ``stop``, ``pause``, ``resume``, ``update``, ``log``, ``repeat``, ``when``).

    Called when ``pio run experiment_profile`` verifies or executes a profile. The target is a
    callable run when the action fires; see the profiles documentation for its arguments.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(action_type, "package.module:callable", summary="...")``.
    """


@registration("targets:ExpressionFunctionRegistry")
def pioreactor_register_expression_functions(registry: ExpressionFunctionRegistry) -> None:
    """Add functions to the ``${{ ... }}`` expression language of experiment profiles.

    Called when a profile is verified or executed. The target is a plain callable; numbers,
    strings and booleans go in and must come out.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(function_name, "package.module:callable", summary="...")``.
    """


@registration("targets:HardwareBackendRegistry")
def pioreactor_register_hardware_backends(registry: HardwareBackendRegistry) -> None:
    """Register hardware backends: the drivers behind PWM, GPIO, ADC, LEDs and temperature.

    Called when a job first asks for hardware. ``[hardware] backend`` in config picks one by
    name; ``auto`` picks ``rpi`` where its GPIO chip is present and ``simulator`` otherwise.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, "package.module:factory", summary="...")``; the factory is called
        as ``factory(config, clock)`` and returns an object implementing
        :class:`pioreactor.sdk.hardware.HardwareBackend`.
    """


@registration("targets:ConfigDefaults")
def pioreactor_register_config_defaults(defaults: ConfigDefaults) -> None:
    """Declare this plugin's config sections, their keys and default values.

    Defaults are the lowest layer of configuration, under ``config.ini``, ``unit_config.ini``
    and ``--config-override``. The type of each default (float, int, bool, str) is the type the
    value must have in the files; a wrong type is reported with the file, section and key.

    :param defaults: scoped to the calling plugin. Call
        ``defaults.section("stirring.config", {"pwm_hz": 200.0, ...})``; use
        :data:`pioreactor.sdk.REQUIRED` as a value for a key the user must set, and
        ``limits={"pwm_hz": Limits(above=0)}`` (:class:`pioreactor.sdk.Limits`) for a range or
        the words a key accepts.
    """


@registration("timeseries:TimeseriesRegistry")
def pioreactor_register_timeseries(registry: TimeseriesRegistry) -> None:
    """Declare a stream of readings once: its table, its MQTT sink, its export dataset and its
    chart are derived from the declaration.

    Called when any of those is asked for (the streamer starts, the database opens, datasets or
    UI descriptors are listed). The table is ``name`` with the columns ``experiment``,
    ``pioreactor_unit``, ``timestamp`` and then ``columns``; a reading is stored once per
    experiment, timestamp, unit and ``key``. For tables that are not time series (experiments,
    logs, runs), use the table, sink and dataset hooks.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, topics="pioreactor/+/+/job/setting", parser="package.module:function",
        columns={"ph": "REAL NOT NULL"}, units={"ph": "pH"}, description="...",
        chart={"chart_key": "ph", "topic": "job/setting", "payload_key": "ph", "column": "ph"})``.
        Optional: ``key`` (columns that make a reading unique besides its time; ``None`` for no
        uniqueness, rows indexed by time instead), ``descriptions`` (by column),
        ``timestamped=False`` (the payload carries no time: see the MQTT sinks hook),
        ``migrations`` (later changes of the table, appended, never edited), ``dataset`` (False for
        no export dataset, or a dict of dataset fields to override) and ``summary``.
    """


@registration("data:DatabaseTableRegistry")
def pioreactor_register_database_tables(registry: DatabaseTableRegistry) -> None:
    """Declare the tables (and views) this plugin keeps in the leader's database, with their
    migrations.

    Called whenever the database is opened by ``mqtt_to_db_streaming``, an export, a backup or
    ``pio experiments``: each table's migrations that the database has not seen yet are applied,
    in order, each in its own transaction. Migrations are append-only: to change a table, add a
    script at the end of its list, never edit one that has shipped.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, migrations=["CREATE TABLE name (...)", ...], summary="...")``. Give a
        table of readings a ``UNIQUE`` key (e.g. experiment, timestamp, unit, channel): the
        streamer inserts with ``INSERT OR IGNORE``, so a message delivered twice is stored once.
    """


@registration("data:MqttSinkRegistry")
def pioreactor_register_mqtt_sinks(registry: MqttSinkRegistry) -> None:
    """Route MQTT topics into database tables: what ``mqtt_to_db_streaming`` subscribes to.

    Called when the streamer starts. Each sink names topic filters, a parser and a table; the
    parser is imported when the streamer starts, never when plugins are listed.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, topics=["pioreactor/+/+/job/setting"], parser="package.module:function",
        table="table_name", summary="...")``. The parser is called as ``parser(topic, payload)``
        (``payload`` is bytes, never empty) and returns a row (a dict of column to value), a list of
        rows, or None to store nothing. If it raises, the message goes to the ``mqtt_dead_letters``
        table and the stream carries on. Pass ``timestamped=False`` when the payload carries no
        timestamp of its own (the parser then stamps rows with the receive time), so a message the
        broker delivers twice is recognised by its content instead.
    """


@registration("data:ExportDatasetRegistry")
def pioreactor_register_export_datasets(registry: ExportDatasetRegistry) -> None:
    """Offer datasets to ``pio run export_experiment_data`` (and later the web UI's export page).

    Called when datasets are listed or exported. Users add their own as YAML files in
    ``$PIO_HOME/exportable_datasets/`` with the same fields.

    :param registry: scoped to the calling plugin. Call
        ``registry.add(name, table="table_name", description="...", timestamp_columns=["timestamp"],
        has_unit=True, has_experiment=True, default_order_by="timestamp")``, or pass
        ``query="SELECT ..."`` instead of ``table``. Optional: ``display_name``,
        ``always_partition_by_unit``, ``column_descriptions`` and ``column_units`` (dicts keyed by
        column).
    """


@hookspec
def pioreactor_all_jobs_stopped(unit: str) -> None:
    """Switch off what outlives jobs, after ``pio kill --all-jobs`` stopped every job of the unit.

    Called in the ``pio kill`` process once the jobs have exited. The LED plugin turns the LEDs
    off here, as upstream does. Exceptions are reported and do not stop the other plugins.

    :param unit: the unit whose jobs were stopped.
    """


@hookspec
def pioreactor_job_state_changed(job: Any, old_state: str, new_state: str) -> None:
    """Observe a job's state change, in the job's own process.

    Called after ``job`` moved from ``old_state`` to ``new_state`` (``init``, ``ready``,
    ``sleeping``, ``disconnected``). Exceptions are logged and do not stop the job.

    :param job: the :class:`pioreactor.sdk.BackgroundJob` instance.
    :param old_state: the state it left.
    :param new_state: the state it is now in.
    """


@registration("ui:UiDescriptorRegistry")
def pioreactor_register_ui_descriptors(registry: UiDescriptorRegistry) -> None:
    """Describe this plugin's jobs, automations and charts for a user interface.

    Called when a UI (or ``pio plugins ui``) asks what it can show. Descriptors are plain
    dicts: a job form (``{"job_name", "display_name", "description", "fields": [{"key",
    "label", "type", "default", "unit"}]}``), an automation form (the same with
    ``"automation_name"`` and ``"kind"``), or a chart (``{"chart_key", "title", "topic",
    "payload_key", "y_axis_label"}``). Nothing is copied into ``$PIO_HOME``: uninstalling the
    plugin removes its descriptors.

    :param registry: scoped to the calling plugin. Call ``registry.add_job(descriptor)``,
        ``registry.add_automation(descriptor)`` or ``registry.add_chart(descriptor)``.
    """


@registration("web:WebRouteRegistry")
def pioreactor_register_web_routes(registry: WebRouteRegistry) -> None:
    """Add HTTP routes to the web server (``pio run web_server``), as upstream's
    ``register_api_route``.

    Called once when the web server builds its app. Views are imported on the first request
    that reaches them, so keep this function free of heavy imports. A view is a plain Flask
    view function; it reads its body with :func:`pioreactor.plugins_core.web.api.json_body`,
    raises :class:`pioreactor.plugins_core.web.api.ApiError` for a JSON error, and hands slow
    work to :func:`pioreactor.plugins_core.web.api.submit_task` (a ``202`` the client polls).

    :param registry: scoped to the calling plugin. Call
        ``registry.add(rule, "package.module:view", methods=("GET",), scope="unit_api")``:
        ``rule`` is the path after the prefix in Flask's syntax (``"/experiments/<experiment>"``);
        ``scope="unit_api"`` serves it on every unit under ``/unit_api``, ``scope="api"`` on the
        leader only, under ``/api``. The same scope, rule and method claimed by two plugins is an
        error naming both. An optional ``summary="..."`` is the line ``docs/web-api.md`` shows
        (the view's docstring otherwise).
    """


# -- plugins written for other plugin systems, and install steps -----------------------------------
@hookspec(firstresult=True)
def pioreactor_adapt_plugin(name: str, module: Any) -> Any:
    """Offer hook implementations for a plugin module that has none of its own.

    Called while plugins load, for each third-party plugin whose module implements no
    ``pioreactor_*`` hook (for example one written for upstream Pioreactor). Return an object
    whose ``@hookimpl`` methods the plugin host registers under the plugin's ``name`` in place
    of the module, or None to leave the module as it is. The first non-None answer wins.

    :param name: the plugin's name (its entry point, or its file's stem).
    :param module: the imported plugin module.
    """


@hookspec
def pioreactor_plugin_installed(distribution: str, files: list[str], assume_yes: bool) -> None:
    """Finish installing a plugin package, after pip installed it and its check passed.

    Runs in the ``pio plugins install`` process. Raise an exception to refuse the plugin: the
    install is then undone, and the message is shown to the user.

    :param distribution: the distribution's name, e.g. ``pioreactor-relay-plugin``.
    :param files: absolute paths of the distribution's installed files.
    :param assume_yes: the user passed ``-y``: do not ask for confirmation.
    """


@hookspec
def pioreactor_plugin_uninstalling(distribution: str, files: list[str], assume_yes: bool) -> None:
    """Undo what ``pioreactor_plugin_installed`` did, before pip removes a plugin package.

    Runs in the ``pio plugins uninstall`` process. Raise an exception to stop the uninstall.

    :param distribution: the distribution's name.
    :param files: absolute paths of the distribution's installed files.
    :param assume_yes: the user passed ``-y``: do not ask for confirmation.
    """
