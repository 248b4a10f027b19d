"""Reports as pure functions of records, on one shared report model."""
