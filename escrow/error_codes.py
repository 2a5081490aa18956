"""Error codes of escrow actions. Clients branch on these, never on messages."""

from enum import StrEnum


class EscrowErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    INVALID_STATE = "invalid_state"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # Deposits
    TOO_LARGE = "too_large"
    TOO_MANY_FILES = "too_many_files"
    EMPTY_DEPOSIT = "empty_deposit"
    TAMPERED = "tampered"
    NOT_RELEASED = "not_released"
    ALREADY_RELEASED = "already_released"
    NDA_REQUIRED = "nda_required"
    SAME_OPERATOR = "same_operator"
    # Payments
    PAYEE_NOT_READY = "payee_not_ready"
    ALREADY_FUNDED = "already_funded"
    NOT_FUNDED = "not_funded"
    FROZEN = "frozen"
    AMOUNT_EXCEEDS_HELD = "amount_exceeds_held"
    DISPUTE_OPEN = "dispute_open"
    NO_OPEN_DISPUTE = "no_open_dispute"
    GATEWAY_ERROR = "gateway_error"
