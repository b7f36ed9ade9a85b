"""Customers' concerns about their decisions, and officers' responses."""
