"""Input checks shared by actions."""

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
