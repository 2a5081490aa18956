"""Error codes of marketplace actions. Clients branch on these, never on messages."""

from enum import StrEnum


class MarketplaceErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    INVALID_STATE = "invalid_state"
    ORGANIZATION_NOT_VERIFIED = "organization_not_verified"
    OWN_LISTING = "own_listing"
    PATENT_NOT_OWNED = "patent_not_owned"
    DEAL_EXISTS = "deal_exists"
    ALREADY_SIGNED = "already_signed"
    NO_NDA_TEMPLATE = "no_nda_template"
    SHARES_MUST_SUM_TO_100 = "shares_must_sum_to_100"
    ONE_LEAD_BROKER = "one_lead_broker"
    NOT_A_BROKER = "not_a_broker"
    OFFER_SUPERSEDED = "offer_superseded"
    ALREADY_ACCEPTED = "already_accepted"
    MILESTONES_DO_NOT_MATCH_OFFER = "milestones_do_not_match_offer"
    EMAIL_TAKEN = "email_taken"
    WEAK_PASSWORD = "weak_password"  # noqa: S105 -- an error code, not a secret
    INVALID_CREDENTIALS = "invalid_credentials"
    INVITATION_INVALID = "invitation_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    TOO_MANY_SAVED_SEARCHES = "too_many_saved_searches"
    RATE_LIMITED = "rate_limited"
    MESSAGE_TOO_LONG = "message_too_long"
    ROOM_CLOSED = "room_closed"


class ActionError(Exception):
    """A refused action: nothing was written. `field` names the input at fault, when there is one."""

    def __init__(self, code: StrEnum, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
