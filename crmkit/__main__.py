"""`python -m crmkit`."""

from crmkit.cli.main import run

run()
