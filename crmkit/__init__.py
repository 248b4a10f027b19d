"""crmkit: a command-line CRM whose database is a folder of YAML files in git."""

__version__ = "0.1.0"
