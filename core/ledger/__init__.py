"""The double-entry ledger: every movement of money as a balanced, append-only journal entry."""
