"""UI descriptors over HTTP: the job, automation, chart and settings descriptions that plugins
register (``pioreactor_register_ui_descriptors``), in the shape upstream's UI reads, plus
upstream-style YAML files in ``$PIO_HOME/ui/`` and ``$PIO_HOME/plugins/ui/``.
"""

from pioreactor.sdk import hookimpl

ROUTES = "pioreactor.plugins_core.descriptors.routes"


@hookimpl
def pioreactor_register_web_routes(registry):
    for scope, prefix in (("unit_api", ""), ("api", ""), ("api", "/workers/<pioreactor_unit>")):
        registry.add(f"{prefix}/jobs/descriptors", f"{ROUTES}:jobs", scope=scope)
        registry.add(f"{prefix}/settings/descriptors", f"{ROUTES}:settings", scope=scope)
        registry.add(f"{prefix}/automations/descriptors/<automation_type>", f"{ROUTES}:automations", scope=scope)
    registry.add("/charts/descriptors", f"{ROUTES}:charts", scope="api")
    # 25.11's paths
    registry.add("/contrib/jobs", f"{ROUTES}:jobs", scope="api")
    registry.add("/contrib/charts", f"{ROUTES}:charts", scope="api")
    registry.add("/contrib/automations/<automation_type>", f"{ROUTES}:automations", scope="api")
