"""Small helpers shared by the plugin's widgets: logging and typed settings."""
