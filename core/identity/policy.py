"""The one place that decides who may do what. Resolvers ask; they never decide.

Two tables say it all: what each role may do (`ROLE_ACTIONS`), and what each API-token scope
narrows that to (`SCOPE_ACTIONS`). Actions marked as owned also require the object to belong
to the viewer's own provider.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from linkstar.core.kernel.errors import LinkStarError
from linkstar.core.kernel.vocabulary import Role, TokenScope


class Unauthenticated(LinkStarError):
    """The caller must sign in (or its credentials are invalid or expired)."""

    code = "UNAUTHENTICATED"


class Forbidden(LinkStarError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"


class Action(enum.StrEnum):
    """Everything the policy can be asked about."""

    READ_OWN_PROVIDER = "READ_OWN_PROVIDER"  # private data of the viewer's own provider
    READ_ANY_PROVIDER = "READ_ANY_PROVIDER"  # private data of every provider (staff)
    MANAGE_OWN_API_TOKENS = "MANAGE_OWN_API_TOKENS"
    INVITE_MEMBER = "INVITE_MEMBER"  # owner of the provider only (checked separately)
    REPORT_KPI = "REPORT_KPI"  # report observations for the viewer's own provider
    CREATE_STAFF_ACCOUNT = "CREATE_STAFF_ACCOUNT"
    READ_AUDIT_LOG = "READ_AUDIT_LOG"
    STAFF_ONLY_FIELD = "STAFF_ONLY_FIELD"  # plugin fields not declared public, off Provider
    RUN_EVALUATION = "RUN_EVALUATION"
    ACT_FOR_OWN_PROVIDER = "ACT_FOR_OWN_PROVIDER"  # apply, upload, sign, appeal, set alert lines
    MANAGE_ACCOUNTS = "MANAGE_ACCOUNTS"  # disable accounts and end their sessions and tokens
    REVIEW = "REVIEW"  # review applications, record violations, decide appeals and sanctions
    REPORT_PLATFORM_KPI = "REPORT_PLATFORM_KPI"  # staff report platform-sourced observations
    MANAGE_MONEY = "MANAGE_MONEY"  # record payments, waive charges, read the whole ledger
    ACT_AS_SELLER = "ACT_AS_SELLER"  # stores, service requests, a seller's side of orders
    REPORT_STORE_DATA = "REPORT_STORE_DATA"  # a seller's stores' monthly sales


OWNED = frozenset(
    {Action.READ_OWN_PROVIDER, Action.INVITE_MEMBER, Action.REPORT_KPI, Action.ACT_FOR_OWN_PROVIDER}
)

_STAFF = frozenset(
    {
        Action.READ_ANY_PROVIDER,
        Action.STAFF_ONLY_FIELD,
        Action.MANAGE_OWN_API_TOKENS,
        Action.REPORT_PLATFORM_KPI,
        Action.REVIEW,
        Action.MANAGE_MONEY,
    }
)
ROLE_ACTIONS: dict[Role | None, frozenset[Action]] = {
    None: frozenset(),  # anonymous: public data only
    Role.SELLER: frozenset(
        {Action.MANAGE_OWN_API_TOKENS, Action.ACT_AS_SELLER, Action.REPORT_STORE_DATA}
    ),
    Role.PARTNER: frozenset(
        {
            Action.READ_OWN_PROVIDER,
            Action.MANAGE_OWN_API_TOKENS,
            Action.INVITE_MEMBER,
            Action.REPORT_KPI,
            Action.ACT_FOR_OWN_PROVIDER,
        }
    ),
    Role.REVIEWER: _STAFF,
    Role.ADMIN: _STAFF
    | {
        Action.CREATE_STAFF_ACCOUNT,
        Action.READ_AUDIT_LOG,
        Action.RUN_EVALUATION,
        Action.MANAGE_ACCOUNTS,
    },
}

SCOPE_ACTIONS: dict[TokenScope, frozenset[Action]] = {
    TokenScope.READ: frozenset(
        {Action.READ_OWN_PROVIDER, Action.READ_ANY_PROVIDER, Action.STAFF_ONLY_FIELD}
    ),
    TokenScope.REPORT_KPI: frozenset({Action.REPORT_KPI, Action.REPORT_PLATFORM_KPI}),
    TokenScope.REPORT_STORE_DATA: frozenset({Action.REPORT_STORE_DATA}),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: an account through a session or an API token, or nobody."""

    account_id: int | None = None
    role: Role | None = None
    provider_id: int | None = None
    is_provider_owner: bool = False
    session_id: int | None = None
    token_id: int | None = None
    scopes: frozenset[TokenScope] | None = None  # None: a session, with everything the role allows
    label: str = "anonymous"

    @property
    def authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.REVIEWER)


ANONYMOUS = Viewer()


def allowed(viewer: Viewer, action: Action, owner_provider_id: int | None = None) -> bool:
    """Whether `viewer` may do `action` (on an object of `owner_provider_id`, if owned)."""
    actions = ROLE_ACTIONS[viewer.role]
    if viewer.scopes is not None:
        actions = actions & frozenset().union(*(SCOPE_ACTIONS[s] for s in viewer.scopes))
    if action not in actions:
        return False
    if action in OWNED:
        if viewer.provider_id is None or owner_provider_id != viewer.provider_id:
            return False
        if action is Action.INVITE_MEMBER and not viewer.is_provider_owner:
            return False
    return True


def require(viewer: Viewer, action: Action, owner_provider_id: int | None = None) -> None:
    """Raise Unauthenticated (anonymous) or Forbidden unless `allowed`."""
    if allowed(viewer, action, owner_provider_id):
        return
    if not viewer.authenticated:
        raise Unauthenticated(
            "sign in first", suggestion="send Authorization: Bearer <access token>"
        )
    raise Forbidden(f"{viewer.label} may not {action.value.lower().replace('_', ' ')}")


def can_read_private(viewer: Viewer, provider_id: int) -> bool:
    """Whether `viewer` may see a provider's private data (applications, documents, KPIs…)."""
    return allowed(viewer, Action.READ_ANY_PROVIDER) or allowed(
        viewer, Action.READ_OWN_PROVIDER, provider_id
    )
