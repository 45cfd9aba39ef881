"""Declarative validation for category profiles: a plugin lists its fields, the core checks data.

PROFILE = ProfileSchema("widgets", IntField("team_size", minimum=1), TextListField("languages"))
data = PROFILE.validate(raw)   # normalised JSON-safe dict, or ProfileInvalid with every error
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from linkstar.core.kernel.money import Money, is_known_currency
from linkstar.core.providers.categories import ProfileInvalid

_MISSING = object()


class FieldError(ValueError):
    """A single field's problem; collected by ProfileSchema into ProfileInvalid."""


@dataclass(frozen=True)
class ProfileField:
    """Base: a named field, optional or required, with an optional description for clients."""

    name: str
    optional: bool = False
    description: str = ""

    kind: ClassVar[str] = "TEXT"

    def check(self, value: Any) -> Any:  # pragma: no cover - every field overrides it
        raise NotImplementedError

    def constraint(self) -> str:
        """What a valid value looks like, in words (served by `ServiceCategory.profileFields`)."""
        return ""

    def choice_values(self) -> list[str] | None:
        """The allowed values of an enum field; None for other fields."""
        choices = getattr(self, "choices", None)
        return [c.value for c in choices] if choices is not None else None


@dataclass(frozen=True)
class IntField(ProfileField):
    kind: ClassVar[str] = "INT"
    minimum: int = 0
    maximum: int = 1_000_000_000

    def constraint(self) -> str:
        return f"an integer from {self.minimum} to {self.maximum}"

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise FieldError(f"must be between {self.minimum} and {self.maximum}")
        return value


@dataclass(frozen=True)
class DecimalField(ProfileField):
    kind: ClassVar[str] = "DECIMAL"
    minimum: Decimal = Decimal(0)
    maximum: Decimal = Decimal(10**12)

    def constraint(self) -> str:
        return f"a decimal string from {self.minimum} to {self.maximum}"

    def check(self, value: Any) -> str:
        if isinstance(value, float | bool):
            raise FieldError("must be a decimal string, not a float")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise FieldError("must be a decimal number") from None
        if not number.is_finite() or not self.minimum <= number <= self.maximum:
            raise FieldError(f"must be between {self.minimum} and {self.maximum}")
        return str(number)


@dataclass(frozen=True)
class BoolField(ProfileField):
    kind: ClassVar[str] = "BOOLEAN"

    def constraint(self) -> str:
        return "true or false"

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldError("must be true or false")
        return value


@dataclass(frozen=True)
class TextField(ProfileField):
    kind: ClassVar[str] = "TEXT"
    max_length: int = 500

    def constraint(self) -> str:
        return f"a non-empty string of at most {self.max_length} characters"

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise FieldError("must be a non-empty string")
        if len(value) > self.max_length:
            raise FieldError(f"must be at most {self.max_length} characters")
        return value.strip()


@dataclass(frozen=True)
class TextListField(ProfileField):
    kind: ClassVar[str] = "TEXT_LIST"
    min_items: int = 1
    max_items: int = 50
    max_length: int = 100

    def constraint(self) -> str:
        return (
            f"{self.min_items} to {self.max_items} distinct strings of at most "
            f"{self.max_length} characters"
        )

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise FieldError("must be a list of strings")
        if not self.min_items <= len(value) <= self.max_items:
            raise FieldError(f"must have between {self.min_items} and {self.max_items} items")
        items = [TextField(self.name, max_length=self.max_length).check(v) for v in value]
        if len(set(items)) != len(items):
            raise FieldError("must not repeat an item")
        return items


@dataclass(frozen=True)
class EnumListField(ProfileField):
    kind: ClassVar[str] = "ENUM_LIST"
    choices: type[enum.Enum] | None = None
    min_items: int = 1

    def constraint(self) -> str:
        return f"at least {self.min_items} distinct values of `choices`"

    def check(self, value: Any) -> list[str]:
        assert self.choices is not None
        allowed = [c.value for c in self.choices]
        if not isinstance(value, list) or len(value) < self.min_items:
            raise FieldError(f"must be a list of at least {self.min_items} of {allowed}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise FieldError(f"unknown values {unknown}; allowed: {allowed}")
        if len(set(value)) != len(value):
            raise FieldError("must not repeat a value")
        return list(value)


@dataclass(frozen=True)
class EnumField(ProfileField):
    kind: ClassVar[str] = "ENUM"
    choices: type[enum.Enum] | None = None

    def constraint(self) -> str:
        return "one value of `choices`"

    def check(self, value: Any) -> str:
        assert self.choices is not None
        allowed = [c.value for c in self.choices]
        if value not in allowed:
            raise FieldError(f"must be one of {allowed}")
        return str(value)


@dataclass(frozen=True)
class MoneyField(ProfileField):
    kind: ClassVar[str] = "MONEY"

    def constraint(self) -> str:
        return '{"amount": "<decimal string>", "currency": "<ISO 4217>"}, not negative'

    def check(self, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
            raise FieldError('must be {"amount": "<decimal>", "currency": "<ISO 4217>"}')
        if not is_known_currency(str(value["currency"])):
            raise FieldError(f"unknown currency {value['currency']!r}")
        if isinstance(value["amount"], float):
            raise FieldError("amount must be a decimal string, not a float")
        try:
            money = Money(Decimal(str(value["amount"])), str(value["currency"]))
        except (InvalidOperation, ValueError) as exc:
            raise FieldError(f"invalid amount: {exc}") from None
        if money.amount < 0:
            raise FieldError("amount must not be negative")
        return {"amount": str(money.amount), "currency": money.currency}


class ProfileSchema:
    """The fields of one category's profile."""

    def __init__(self, category: str, *fields: ProfileField) -> None:
        self.category = category
        self.fields = {f.name: f for f in fields}

    def validate(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Normalised data, or ProfileInvalid listing every missing, unknown or bad field."""
        if not isinstance(data, Mapping):
            raise ProfileInvalid(self.category, {"$": "must be an object"})
        errors: dict[str, str] = {}
        result: dict[str, Any] = {}
        for name in sorted(set(data) - set(self.fields)):
            errors[name] = "is not a field of this profile"
        for name, spec in self.fields.items():
            value = data.get(name, _MISSING)
            if value is _MISSING or value is None:
                if not spec.optional:
                    errors[name] = "is required"
                continue
            try:
                result[name] = spec.check(value)
            except FieldError as exc:
                errors[name] = str(exc)
        if errors:
            raise ProfileInvalid(self.category, errors)
        return result


def money_of(value: Mapping[str, str] | None) -> Money | None:
    """Money from a validated MoneyField value."""
    if value is None:
        return None
    return Money(Decimal(value["amount"]), value["currency"])
