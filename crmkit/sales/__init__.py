"""Sales: stages and deals, leads, scoring, routing rules and pools, offers."""
