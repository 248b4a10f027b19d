"""Marketing: segments (smart lists), mail merge into the outbox, SMTP."""
