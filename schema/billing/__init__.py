"""GraphQL of billing and the ledger: charges, payments, waivers, deposits, ledger lines."""
