"""The escrow in the API: deposits and their certificates, the transparency log, milestone payments."""
