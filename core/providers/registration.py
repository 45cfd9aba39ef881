"""Checking what a provider registers: identity numbers (python-stdnum), people, team, cases.

Mainland entities register with a unified social credit code (GB 32100-2015) and mainland
residents identify with a resident ID; both are checked with their check character. Other
regions register with a company number and identify with a passport-style number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money, is_known_currency
from linkstar.core.kernel.vocabulary import Marketplace, Region

ID_TYPES = ("MAINLAND_RESIDENT_ID", "PASSPORT", "HK_MACAU_TAIWAN_PERMIT")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_COMPANY_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9\-/ ]{3,40}$")
_PHONE = re.compile(r"^\+?[0-9 \-]{6,20}$")


class RegistrationInvalid(InvalidInput):
    """Registration data failed validation; `details.fields` maps each field to its problem."""

    code = "REGISTRATION_INVALID"

    def __init__(self, errors: Mapping[str, str]) -> None:
        listed = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        super().__init__(f"the registration is invalid: {listed}", details={"fields": dict(errors)})
        self.errors = dict(errors)


def registration_number(region: Region, raw: str) -> str:
    """The normalised registration number, or InvalidInput saying what is wrong with it."""
    value = raw.strip().upper()
    if region is Region.MAINLAND_CHINA:
        try:
            return uscc.validate(value)
        except ValidationError as exc:
            raise InvalidInput(
                f"{raw!r} is not a valid unified social credit code: {exc}",
                code="INVALID_USCC",
                suggestion="18 characters as on the business licence, check character included",
            ) from None
    if not _COMPANY_NUMBER.match(value):
        raise InvalidInput(
            f"{raw!r} is not a company registration number", code="INVALID_REGISTRATION_NUMBER"
        )
    return value


def _person(path: str, data: Any, region: Region, errors: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(data, Mapping):
        errors[path] = "is required"
        return None
    name = str(data.get("name") or "").strip()
    id_type = data.get("id_type")
    id_number = str(data.get("id_number") or "").strip().upper()
    if not 1 <= len(name) <= 100:
        errors[f"{path}.name"] = "must have 1 to 100 characters"
    if id_type not in ID_TYPES:
        errors[f"{path}.idType"] = f"must be one of {list(ID_TYPES)}"
    elif id_type == "MAINLAND_RESIDENT_ID":
        try:
            id_number = ric.validate(id_number)
        except ValidationError as exc:
            errors[f"{path}.idNumber"] = f"is not a valid mainland resident ID: {exc}"
    elif not _PASSPORT.match(id_number):
        errors[f"{path}.idNumber"] = "must be 5 to 20 letters and digits"
    person = {"name": name, "id_type": id_type, "id_number": id_number}
    for key in ("phone", "email"):
        value = data.get(key)
        if value is None:
            continue
        value = str(value).strip()
        if key == "phone" and not _PHONE.match(value):
            errors[f"{path}.phone"] = "is not a phone number"
        if key == "email" and ("@" not in value or len(value) > 254):
            errors[f"{path}.email"] = "is not an email address"
        person[key] = value
    return person


def _money(path: str, data: Any, errors: dict[str, str]) -> dict[str, str] | None:
    try:
        if not isinstance(data, Mapping) or not is_known_currency(str(data.get("currency"))):
            raise ValueError("needs an amount and a known currency")
        money = Money(Decimal(str(data["amount"])), str(data["currency"]))
        if money.amount < 0:
            raise ValueError("must not be negative")
        return {"amount": str(money.amount), "currency": money.currency}
    except (ValueError, InvalidOperation, KeyError) as exc:
        errors[path] = str(exc) or "is not an amount of money"
        return None


def _text(
    path: str, value: Any, errors: dict[str, str], limit: int = 2000, required: bool = True
) -> str | None:
    text = str(value or "").strip()
    if not text:
        if required:
            errors[path] = "is required"
        return None
    if len(text) > limit:
        errors[path] = f"must be at most {limit} characters"
    return text


def validate_details(region: Region, data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised registration details, or RegistrationInvalid listing every problem."""
    errors: dict[str, str] = {}
    details: dict[str, Any] = {
        "legal_representative": _person(
            "legalRepresentative", data.get("legal_representative"), region, errors
        ),
        "contact_person": _person("contactPerson", data.get("contact_person"), region, errors),
        "business_description": _text(
            "businessDescription", data.get("business_description"), errors
        ),
    }
    team = data.get("team") or {}
    roles = []
    for i, role in enumerate(team.get("roles") or []):
        title = _text(f"team.roles[{i}].role", role.get("role"), errors, 80)
        headcount = role.get("headcount")
        if not isinstance(headcount, int) or headcount < 1:
            errors[f"team.roles[{i}].headcount"] = "must be a positive integer"
        roles.append({"role": title, "headcount": headcount})
    if not roles:
        errors["team.roles"] = "list at least one role with its headcount"
    details["team"] = {
        "roles": roles,
        "background": _text("team.background", team.get("background"), errors),
    }
    cases = []
    for i, case in enumerate(data.get("service_cases") or []):
        cases.append(
            {
                "client": _text(f"serviceCases[{i}].client", case.get("client"), errors, 200),
                "product_categories": [
                    str(c).strip() for c in case.get("product_categories") or [] if str(c).strip()
                ],
                "results": _text(f"serviceCases[{i}].results", case.get("results"), errors),
            }
        )
        if not cases[-1]["product_categories"]:
            errors[f"serviceCases[{i}].productCategories"] = "list at least one product category"
    if not cases:
        errors["serviceCases"] = "describe at least one past service case with its results"
    details["service_cases"] = cases
    services = []
    for i, service in enumerate(data.get("services") or []):
        services.append(
            {
                "name": _text(f"services[{i}].name", service.get("name"), errors, 200),
                "price": _money(f"services[{i}].price", service.get("price"), errors),
                "billing_basis": _text(
                    f"services[{i}].billingBasis", service.get("billing_basis"), errors, 80
                ),
            }
        )
    if not services:
        errors["services"] = "list at least one service with its price"
    details["services"] = services
    details["saas_tool"] = _text("saasTool", data.get("saas_tool"), errors, 300, required=False)
    details["certifications"] = [
        _text(f"certifications[{i}]", c, errors, 200)
        for i, c in enumerate(data.get("certifications") or [])
    ]
    if errors:
        raise RegistrationInvalid(errors)
    return details


def marketplaces(values: list[Any]) -> list[Marketplace]:
    """The marketplaces served: at least one, no repeats."""
    if not values:
        raise RegistrationInvalid({"marketplaces": "list at least one marketplace you serve"})
    if len(set(values)) != len(values):
        raise RegistrationInvalid({"marketplaces": "must not repeat a marketplace"})
    return [Marketplace(v) for v in values]
