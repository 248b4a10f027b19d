"""Contacts and companies as people: likely duplicates and merging them."""
