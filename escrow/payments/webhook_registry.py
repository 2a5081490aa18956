"""Which function applies which gateway event type. Modules register with `@handles("type")`; the webhook
view answers 200 without doing anything for a type nobody handles (the gateway sends many)."""

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], None]  # receives the whole event; event["data"]["object"] is the object

HANDLERS: dict[str, Handler] = {}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if event_type in HANDLERS:
            raise RuntimeError(f"two handlers for {event_type}")
        HANDLERS[event_type] = handler
        return handler

    return register


def load_handlers() -> None:
    """Import the modules that register handlers (called once by the webhook view)."""
    import escrow.payments.accounts
    import escrow.payments.events  # noqa: F401
