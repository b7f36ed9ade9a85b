"""Human review of held decisions: the queue, claims, confirmations, overrides, four eyes."""
