"""Monitoring of systems over time: windows of the decision log counted once, then read."""
