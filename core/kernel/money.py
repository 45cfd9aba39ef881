"""Money: an exact Decimal amount with an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# Minor units per ISO 4217 for the currencies the platform settles in. An unknown
# currency is refused rather than guessed, so a typo cannot become a silent default.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "MYR": 2,
    "THB": 2,
    "IDR": 2,
    "PHP": 2,
    "VND": 0,
    "JPY": 0,
    "KRW": 0,
}


def is_known_currency(currency: str) -> bool:
    """Whether `currency` is an ISO 4217 code the platform settles in."""
    return currency in MINOR_UNITS


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, quantized to that currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be a Decimal, got {type(self.amount).__name__}")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")
        if not self.amount.is_finite():
            raise ValueError("Money amount must be finite")
        exponent = Decimal(1).scaleb(-MINOR_UNITS[self.currency])
        if self.amount != self.amount.quantize(exponent):
            raise ValueError(
                f"{self.amount} has more decimals than {self.currency} allows "
                f"({MINOR_UNITS[self.currency]})"
            )
        object.__setattr__(self, "amount", self.amount.quantize(exponent))

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from a string or int (`Money.of("20000.00", "CNY")`); floats are refused."""
        if isinstance(amount, float):
            raise TypeError("Money never takes a float; pass a string or a Decimal")
        return cls(Decimal(amount), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiply by an exact factor, rounding half-even to the minor unit."""
        if isinstance(factor, float):
            raise TypeError("Money never takes a float factor")
        exponent = Decimal(1).scaleb(-MINOR_UNITS[self.currency])
        raw = self.amount * Decimal(factor)
        return Money(raw.quantize(exponent, rounding=ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
