"""Plugins over HTTP: list what is installed, install and uninstall (as tasks), as upstream's
Plugins page calls them. Installs from the UI are refused while ``$PIO_HOME/DISALLOW_UI_INSTALLS``
exists."""

from pioreactor.sdk import hookimpl

ROUTES = "pioreactor.plugins_core.plugin_manager.routes"


@hookimpl
def pioreactor_register_web_routes(registry):
    registry.add("/plugins/installed", f"{ROUTES}:installed", scope="unit_api")
    registry.add("/plugins/install", f"{ROUTES}:install", methods=("POST", "PATCH"), scope="unit_api")
    registry.add("/plugins/uninstall", f"{ROUTES}:uninstall", methods=("POST", "PATCH"), scope="unit_api")
    unit = "/units/<pioreactor_unit>/plugins"
    registry.add(f"{unit}/installed", f"{ROUTES}:api_installed", scope="api")
    registry.add(f"{unit}/install", f"{ROUTES}:api_install", methods=("POST", "PATCH"), scope="api")
    registry.add(f"{unit}/uninstall", f"{ROUTES}:api_uninstall", methods=("POST", "PATCH"), scope="api")
    registry.add("/plugins/install", f"{ROUTES}:api_install_here", methods=("POST", "PATCH"), scope="api")
