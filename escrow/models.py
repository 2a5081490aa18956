"""Escrow models arrive with the escrow issue."""
