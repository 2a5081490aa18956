"""A seam for crash tests: a real process dies at a named point, as a power cut or OOM kill would.

`crash_point("after_gateway_call")` does nothing unless the environment variable ESCROW_CRASH_AT names
that point; then the process exits at once (no cleanup, no commit, no rollback message to the server), so
a test running it as a subprocess sees what a real crash leaves behind."""

import os

CRASH_EXIT_CODE = 137  # what a SIGKILLed process reports


def crash_point(name: str) -> None:
    if os.environ.get("ESCROW_CRASH_AT") == name:
        os._exit(CRASH_EXIT_CODE)
