"""Shared plumbing: database base, errors, API base classes, transactions, auth, mail."""
