"""Accounts, sessions, API tokens, invitations, rate limits and the audit log, over HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import jwt
import pytest

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import LOGIN, PASSWORD, GraphQLClient, global_id, mailbox, mailed_token

VIEWER = "{ viewer { email role isProviderOwner provider { legalName } } }"
REFRESH = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }"
CREATE_TOKEN = """mutation($scopes: [TokenScope!]!, $days: Int!) {
  createApiToken(name: "ERP push", scopes: $scopes, expiresInDays: $days) {
    token apiToken { id name prefix scopes expiresAt revokedAt } } }"""


def provider(db, name: str = "Shenzhen Alpha Ops", listed: bool = True) -> models.Provider:
    row = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=f"REG-{name}"
    )
    db.add(row)
    db.flush()
    status = ApplicationStatus.ACTIVE if listed else ApplicationStatus.IN_REVIEW
    db.add(models.Application(provider_id=row.id, category_key="sample", status=status))
    db.commit()
    return row


def audit_actions(db) -> list[tuple[str, str, str]]:
    db.expire_all()
    return [
        (e.action, e.outcome.value, e.actor_label)
        for e in db.query(models.AuditEntry).order_by(models.AuditEntry.id)
    ]


# --- sessions ------------------------------------------------------------------------------


def test_login_gives_tokens_that_identify_the_account(sign_in, db) -> None:
    acme = provider(db)
    partner = sign_in(Role.PARTNER, provider_id=acme.id, owner=True, email="owner@acme.example")
    assert partner(VIEWER)["viewer"] == {
        "email": "owner@acme.example",
        "role": "PARTNER",
        "isProviderOwner": True,
        "provider": {"legalName": "Shenzhen Alpha Ops"},
    }
    claims = jwt.decode(partner.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60  # short-lived


def test_wrong_password_and_unknown_email_fail_alike_and_are_audited(gql, sign_in, db) -> None:
    sign_in(Role.SELLER, email="seller@example.com")
    wrong = gql.errors(
        LOGIN, {"email": "seller@example.com", "password": "not the password at all"}
    )[0]
    unknown = gql.errors(
        LOGIN, {"email": "nobody@example.com", "password": "not the password at all"}
    )[0]
    assert wrong["message"] == unknown["message"] == "invalid email or password"
    assert wrong["extensions"]["code"] == unknown["extensions"]["code"] == "UNAUTHENTICATED"
    actions = audit_actions(db)
    assert ("security.login_failed", "FAILED", "seller@example.com") in actions
    assert ("security.login_failed", "FAILED", "nobody@example.com") in actions
    assert ("mutation.login", "FAILED", "anonymous") in actions


def test_refresh_rotates_and_the_old_refresh_token_stops_working(gql, sign_in, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    first = gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]
    second = gql(REFRESH, {"t": first["refreshToken"]})["refreshSession"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (
        GraphQLClient(gql.http.base_url.__str__(), second["accessToken"])(VIEWER)["viewer"]["email"]
        == "s@example.com"
    )
    # reusing the rotated token ends the session (tests/test_login_throttling.py)
    error = gql.errors(REFRESH, {"t": first["refreshToken"]})[0]
    assert error["extensions"]["code"] == "REFRESH_TOKEN_REUSED"


def test_logout_revokes_the_access_and_refresh_tokens_at_once(gql, sign_in, server, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    tokens = gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]
    client = GraphQLClient(server.url, tokens["accessToken"])
    assert client("mutation { logout }") == {"logout": True}
    response = client.raw(VIEWER)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (
        gql.errors(REFRESH, {"t": tokens["refreshToken"]})[0]["extensions"]["code"]
        == "UNAUTHENTICATED"
    )


def test_password_change_revokes_every_session(gql, sign_in, server, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    laptop = GraphQLClient(
        server.url,
        gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]["accessToken"],
    )
    phone = GraphQLClient(
        server.url,
        gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]["accessToken"],
    )
    changed = laptop(
        'mutation { changePassword(currentPassword: "correct horse battery staple", newPassword: "a brand new long passphrase") { accessToken } }'
    )["changePassword"]
    assert laptop.raw(VIEWER).status_code == 401 and phone.raw(VIEWER).status_code == 401
    assert (
        GraphQLClient(server.url, changed["accessToken"])(VIEWER)["viewer"]["email"]
        == "s@example.com"
    )
    assert (
        gql.errors(LOGIN, {"email": "s@example.com", "password": PASSWORD})[0]["extensions"]["code"]
        == "UNAUTHENTICATED"
    )
    assert gql(LOGIN, {"email": "s@example.com", "password": "a brand new long passphrase"})[
        "login"
    ]["accessToken"]


def test_weak_password_is_refused_with_advice(gql, db) -> None:
    error = gql.errors(
        'mutation { signUpSeller(email: "x@example.com", password: "short", displayName: "X") { email } }'
    )[0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert "12 to 256 characters" in error["message"]


def test_seller_sign_up_and_duplicate_email(gql, db) -> None:
    query = 'mutation { signUpSeller(email: "Buyer@Example.com", password: "long enough passphrase", displayName: "Buyer") { email message } }'
    first = gql(query)["signUpSeller"]
    # the second sign-up with the same address answers exactly the same (no EMAIL_TAKEN) ...
    assert gql(query)["signUpSeller"] == first
    assert first["email"] == "buyer@example.com"
    # ... and the address owner learns by mail: a token first, then a notice
    subjects = [subject for subject, _ in mailbox("buyer@example.com")]
    assert subjects == [
        "LinkStar: confirm your email address",
        "LinkStar: someone tried to sign up with your address",
    ]
    assert db.query(models.Account).filter_by(email="buyer@example.com").count() == 1


def test_bad_credentials_in_the_header_are_401_not_anonymous(server) -> None:
    for header in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer lsk_unknown", "Bearer"):
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "{ viewer { email } }"},
            headers={"Authorization": header},
        )
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == "Bearer"


def test_expired_access_token_is_refused(server, sign_in, db) -> None:
    client = sign_in(Role.SELLER)
    claims = jwt.decode(client.token, options={"verify_signature": False})
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 1},
        server.app.state.settings.secret_key,
        algorithm="HS256",
    )
    response = GraphQLClient(server.url, expired).raw(VIEWER)
    assert response.status_code == 401 and "expired" in response.json()["errors"][0]["message"]


def test_login_is_throttled_per_account_and_address(gql, sign_in, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    for _ in range(5):  # see tests/test_login_throttling.py for the whole policy
        gql.errors(LOGIN, {"email": "s@example.com", "password": "wrong wrong wrong"})
    error = gql.errors(LOGIN, {"email": "s@example.com", "password": PASSWORD})[0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["details"]["retryAfterSeconds"] <= 900
    assert ("mutation.login", "DENIED", "anonymous") in audit_actions(db)


# --- API tokens ----------------------------------------------------------------------------


def test_api_token_is_shown_once_stored_hashed_and_scoped(sign_in, server, db) -> None:
    acme = provider(db)
    partner = sign_in(Role.PARTNER, provider_id=acme.id)
    created = partner(CREATE_TOKEN, {"scopes": ["READ"], "days": 30})["createApiToken"]
    assert (
        created["token"].startswith("lsk_")
        and created["apiToken"]["prefix"] == created["token"][:12]
    )
    stored = db.query(models.ApiToken).one()
    assert (
        created["token"] not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    )
    listed = partner("{ apiTokens { edges { node { name scopes } } } }")["apiTokens"]["edges"]
    assert listed == [{"node": {"name": "ERP push", "scopes": ["READ"]}}]

    machine = GraphQLClient(server.url, created["token"])
    assert machine(VIEWER)["viewer"]["email"] == partner.email
    error = machine.errors(CREATE_TOKEN, {"scopes": ["READ"], "days": 1})[0]
    assert error["extensions"]["code"] == "FORBIDDEN"  # tokens cannot mint tokens

    revoked = partner(
        "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
        {"id": created["apiToken"]["id"]},
    )
    assert revoked["revokeApiToken"]["revokedAt"] is not None
    assert machine.raw(VIEWER).status_code == 401
    actions = [a for a, _, _ in audit_actions(db)]
    assert "security.api_token_created" in actions and "security.api_token_revoked" in actions


def test_report_only_token_cannot_read_private_data(sign_in, server, db) -> None:
    acme = provider(db)
    db.add(
        models.Document(
            provider_id=acme.id,
            requirement_key="business_licence",
            filename="l.pdf",
            media_type="application/pdf",
            size_bytes=1,
            sha256="0" * 64,
        )
    )
    db.commit()
    partner = sign_in(Role.PARTNER, provider_id=acme.id)
    token = partner(CREATE_TOKEN, {"scopes": ["REPORT_KPI"], "days": 7})["createApiToken"]["token"]
    query = "query($id: ID!) { provider(id: $id) { legalName registrationNumber documents { totalCount } } }"
    from tests.harness import global_id

    gid = global_id("Provider", acme.id)
    assert partner(query, {"id": gid})["provider"]["documents"]["totalCount"] == 1
    reporter = GraphQLClient(server.url, token)
    assert reporter(query, {"id": gid})["provider"] == {
        "legalName": "Shenzhen Alpha Ops",
        "registrationNumber": None,
        "documents": {"totalCount": 0},
    }


def test_expired_api_token_is_refused(sign_in, server, db) -> None:
    partner = sign_in(Role.SELLER)
    token = partner(CREATE_TOKEN, {"scopes": ["READ"], "days": 1})["createApiToken"]["token"]
    row = db.query(models.ApiToken).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert GraphQLClient(server.url, token).raw(VIEWER).status_code == 401


def test_api_token_lifetime_is_bounded(sign_in, db) -> None:
    client = sign_in(Role.SELLER)
    assert (
        client.errors(CREATE_TOKEN, {"scopes": ["READ"], "days": 366})[0]["extensions"]["code"]
        == "INVALID_INPUT"
    )
    assert (
        client.errors(CREATE_TOKEN, {"scopes": [], "days": 10})[0]["extensions"]["code"]
        == "INVALID_INPUT"
    )


def test_requests_per_api_token_are_rate_limited(sign_in, server, db) -> None:
    from linkstar.core.identity.ratelimit import REQUESTS_PER_API_TOKEN

    client = sign_in(Role.SELLER)
    created = client(CREATE_TOKEN, {"scopes": ["READ"], "days": 1})["createApiToken"]
    machine = GraphQLClient(server.url, created["token"])
    assert machine.raw(VIEWER).status_code == 200
    token_id = db.query(models.ApiToken.id).scalar()
    window = db.query(models.RateLimitWindow).filter_by(key=f"token:{token_id}").one()
    window.hits = REQUESTS_PER_API_TOKEN.hits  # the allowance is spent
    db.commit()
    response = machine.raw(VIEWER)
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < int(response.headers["retry-after"]) <= 60


# --- invitations and staff -----------------------------------------------------------------


def test_owner_invites_a_member_who_joins_the_same_provider(gql, sign_in, db) -> None:
    acme = provider(db)
    owner = sign_in(Role.PARTNER, provider_id=acme.id, owner=True)
    invitation = owner('mutation { inviteMember(email: "new@acme.example") { email token } }')[
        "inviteMember"
    ]
    # the inviter never sees the token: it goes to the invited address only
    assert invitation == {"email": "new@acme.example", "token": None}
    token = mailed_token("new@acme.example")
    accept = 'mutation($t: String!) { acceptInvitation(token: $t, password: "joining with a long phrase", displayName: "New") { account { email role isProviderOwner provider { legalName } } } }'
    joined = gql(accept, {"t": token})["acceptInvitation"]["account"]
    assert joined == {
        "email": "new@acme.example",
        "role": "PARTNER",
        "isProviderOwner": False,
        "provider": {"legalName": "Shenzhen Alpha Ops"},
    }
    assert gql.errors(accept, {"t": token})[0]["extensions"]["code"] == "INVITATION_INVALID"


@pytest.mark.parametrize("who", ["member", "seller", "reviewer", "anonymous"])
def test_only_a_provider_owner_may_invite(who, gql, sign_in, db) -> None:
    acme = provider(db)
    client = {
        "member": lambda: sign_in(Role.PARTNER, provider_id=acme.id),
        "seller": lambda: sign_in(Role.SELLER),
        "reviewer": lambda: sign_in(Role.REVIEWER),
        "anonymous": lambda: gql,
    }[who]()
    error = client.errors('mutation { inviteMember(email: "x@acme.example") { token } }')[0]
    assert error["extensions"]["code"] == ("UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN")


def test_admin_creates_staff_and_reviews_the_audit_log(sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    reviewer = sign_in(Role.REVIEWER)
    create = 'mutation { createStaffAccount(email: "r2@linkstar.example", password: "a long staff passphrase", displayName: "R2", role: REVIEWER) { email role } }'
    assert admin(create)["createStaffAccount"] == {
        "email": "r2@linkstar.example",
        "role": "REVIEWER",
    }
    assert reviewer.errors(create.replace("r2@", "r3@"))[0]["extensions"]["code"] == "FORBIDDEN"
    assert reviewer.errors("{ auditLog { totalCount } }")[0]["extensions"]["code"] == "FORBIDDEN"
    log = admin(
        """{ denied: auditLog(filter: {action: "security.permission_denied"}) { edges { node { actorLabel target outcome } } }
             created: auditLog(filter: {action: "mutation.createStaffAccount", outcome: SUCCESS}) { totalCount } }"""
    )
    assert {"actorLabel": reviewer.email, "target": "createStaffAccount", "outcome": "DENIED"} in [
        e["node"] for e in log["denied"]["edges"]
    ]
    assert log["created"]["totalCount"] == 1


def test_audit_entries_are_admin_only_even_by_node_id(sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    admin(
        'mutation { createStaffAccount(email: "r9@linkstar.example", password: "a long staff passphrase", displayName: "R9", role: REVIEWER) { email } }'
    )
    entry_id = admin("{ auditLog(first: 1) { edges { node { id } } } }")["auditLog"]["edges"][0][
        "node"
    ]["id"]
    reviewer = sign_in(Role.REVIEWER)
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert admin(query, {"id": entry_id})["node"] == {"id": entry_id}
    assert reviewer(query, {"id": entry_id})["node"] is None


def test_an_admin_disables_an_account_and_everything_it_holds_stops(sign_in, server, db) -> None:
    admin = sign_in(Role.ADMIN)
    seller = sign_in(Role.SELLER)
    token = seller(CREATE_TOKEN, {"scopes": ["READ"], "days": 5})["createApiToken"]["token"]
    account_id = db.query(models.Account).filter_by(email=seller.email).one().id
    disabled = admin(
        'mutation($a: ID!) { setAccountDisabled(account: $a, disabled: true, reason: "Fraud report #88") { email } }',
        {"a": global_id("Account", account_id)},
    )
    assert disabled["setAccountDisabled"]["email"] == seller.email
    assert seller.raw(VIEWER).status_code == 401
    assert GraphQLClient(server.url, token).raw(VIEWER).status_code == 401
    actions = [a for a, _, _ in audit_actions(db)]
    assert "security.account_disabled" in actions and "security.authentication_refused" in actions
    assert (
        sign_in(Role.REVIEWER).errors(
            'mutation($a: ID!) { setAccountDisabled(account: $a, disabled: false, reason: "x") { email } }',
            {"a": global_id("Account", account_id)},
        )[0]["extensions"]["code"]
        == "FORBIDDEN"
    )
