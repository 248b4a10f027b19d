"""Conversions at the boundary: CSV, vCard, iCalendar and RFC 5322 messages."""
