"""Marketplace domain: organisations, patents, listings, demands, deals, brokers."""
