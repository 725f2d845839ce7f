"""Built-in plugins. Each subpackage is registered as an entry point in the ``pioreactor.plugins``
group and imports only ``pioreactor.sdk``, exactly like a third-party plugin."""
