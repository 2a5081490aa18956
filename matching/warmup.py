"""Load the analyzers and the encoder before the first request needs them (they take seconds to load)."""

import logging
import threading

log = logging.getLogger(__name__)


def warm_up() -> None:
    from matching import analysis
    from matching.embeddings import encoder

    try:
        analysis.warm_up()
        encoder().encode(["warm up"], "query")
    except Exception:  # a failed warm-up only means the first request loads them
        log.warning("search warm-up failed", exc_info=True)


def warm_up_in_background() -> None:
    threading.Thread(target=warm_up, name="search-warm-up", daemon=True).start()
