"""Customers (data subjects): their own decisions, sign-in links, and their GDPR rights."""
