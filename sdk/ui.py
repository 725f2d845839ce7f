"""What plugins describe for user interfaces (``pioreactor_register_ui_descriptors``): job and
automation forms and charts.

    from pioreactor.sdk.ui import ui_descriptors
    [d.name for d in ui_descriptors().of("chart")]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry

__all__ = ["ui_descriptors"]


def ui_descriptors() -> UiDescriptorRegistry:
    """Every UI descriptor the installed plugins registered; ``.of("job" | "automation" | "chart")``."""
    from pioreactor.kernel.plugins import get_plugin_host
    from pioreactor.kernel.registries.ui import UiDescriptorRegistry

    return get_plugin_host().registry(UiDescriptorRegistry)
