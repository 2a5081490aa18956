"""Input checks shared by actions."""

from collections.abc import Sequence

from marketplace.error_codes import ActionError, MarketplaceErrorCode

# ISO 4217 codes the platform settles in, with their minor-unit exponent (KRW and JPY have none).
CURRENCY_EXPONENTS = {"KRW": 0, "JPY": 0, "USD": 2, "EUR": 2, "CNY": 2, "GBP": 2}
MAX_AMOUNT = 10**15  # minor units; far above any plausible technology transaction


def check_money(amount: int, currency: str, field: str) -> None:
    if currency.upper() not in CURRENCY_EXPONENTS:
        raise ActionError(MarketplaceErrorCode.INVALID, f"Unsupported currency {currency!r}.", "currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise ActionError(
            MarketplaceErrorCode.INVALID, "Amounts are positive integers in minor units.", field
        )


def check_text(value: str, field: str, max_length: int, required: bool = True) -> None:
    if required and not value.strip():
        raise ActionError(MarketplaceErrorCode.INVALID, "This field is required.", field)
    if len(value) > max_length:
        raise ActionError(MarketplaceErrorCode.INVALID, f"At most {max_length} characters.", field)


def check_words(values: Sequence[str], field: str, max_length: int, max_count: int) -> None:
    if len(values) > max_count or any(len(v) > max_length for v in values):
        raise ActionError(
            MarketplaceErrorCode.INVALID, f"At most {max_count} entries of {max_length} characters.", field
        )
