"""The ledger's storage in SQL and its verification."""
