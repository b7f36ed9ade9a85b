"""Purposes, consent and minimization: which data may reach a model, and why the rest did not."""

from ethica.privacy._minimize import Minimized, Withheld, minimize

__all__ = ["Minimized", "Withheld", "minimize"]
