"""Support: tickets, business calendars, SLA clocks, escalation and the cron tick."""
