"""Gateway events applied to the escrow (registered with escrow.payments.webhook_registry)."""
