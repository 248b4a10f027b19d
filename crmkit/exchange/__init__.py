"""Importing records into the workspace and exporting them out again."""
