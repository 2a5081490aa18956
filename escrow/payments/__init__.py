"""Payment trust deposits: the gateway interface and its Stripe implementation."""
