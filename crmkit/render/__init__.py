"""Output: the report model and its renderers, charts, templates, JSON and cell text."""
