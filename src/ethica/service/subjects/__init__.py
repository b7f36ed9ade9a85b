"""Customers (data subjects): their own view of the decisions about them, and sign-in links."""
