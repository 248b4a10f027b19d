"""The only code that touches files or git: the workspace, records, YAML, git, schema, validation."""
