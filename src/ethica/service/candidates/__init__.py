"""Candidate mitigations of a live system: shadow decisions, comparison, promotion, rollback."""
