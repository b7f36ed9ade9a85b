"""Consent: the notices customers are shown, their choices and objections, and the gateway hook."""
