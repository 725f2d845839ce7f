"""Route modules of the web plugin (imported on their first request)."""
