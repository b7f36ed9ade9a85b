"""Decisions: the gateway's log of every decision, its outcome, and its protected attributes."""
