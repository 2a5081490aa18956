"""Escrow domain: technology deposit vault, payment trust deposits, double-entry ledger."""
