"""Origin checks for websocket handshakes that let non-browser clients through.

Browsers always send `Origin`, so a page on a foreign site is refused before it can ride on a visitor's
session cookie. Clients that send no Origin (gql, scripts, benchmarks) are not browsers: the cookie they
could present is their own, and tokens need no origin check at all.
"""

from typing import Any

from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator


class BrowserOriginValidator(OriginValidator):
    """Like channels' AllowedHostsOriginValidator, except that a handshake without Origin passes."""

    def __init__(self, application: Any) -> None:
        # The same allowed list as channels' factory (ALLOWED_HOSTS, with its DEBUG fallback).
        super().__init__(application, AllowedHostsOriginValidator(application).allowed_origins)

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(super().valid_origin(parsed_origin))
