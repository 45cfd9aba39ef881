"""Charges to providers from their category's fee rules: issue, payment, waiver, deposits."""
