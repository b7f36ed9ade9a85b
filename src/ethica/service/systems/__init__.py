"""The registry of AI systems: specs and versioned models."""
