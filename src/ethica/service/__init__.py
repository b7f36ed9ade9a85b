"""The ethica service: the decision gateway, its registry of AI systems, and its ledger."""
