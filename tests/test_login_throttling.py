"""Sign-in throttling per (account, address), the per-address ceiling, trusted proxies and
refresh-token reuse detection (issue #12, points 3 and 9), over HTTP."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta

import pytest

from linkstar.core.identity import ratelimit, throttle
from linkstar.core.identity.addresses import client_address
from linkstar.core.kernel.config import Settings, parse_trusted_proxies
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import ConfigurationError
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime import tables as models
from tests.harness import LOGIN, PASSWORD, TEST_SECRET, GraphQLClient, start_server

WRONG = "not the password at all"
EMAIL = "admin@example.com"
REFRESH = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }"


@pytest.fixture(scope="module")
def behind_proxy(migrated, registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app behind a reverse proxy on 127.0.0.1 that it trusts (LINKSTAR_TRUSTED_PROXIES)."""
    from linkstar.core.runtime.app import create_app

    settings = Settings(
        database_url=migrated,
        environment="development",
        disabled_plugins=(),
        storage_dir=str(tmp_path_factory.mktemp("proxied")),
        secret_key=TEST_SECRET,
        trusted_proxies=parse_trusted_proxies("127.0.0.1"),
    )
    uv, thread, url = start_server(create_app(settings, registry))
    yield url
    uv.should_exit = True
    thread.join(timeout=10)


def login(url: str, address: str, password: str, email: str = EMAIL) -> dict:
    client = GraphQLClient(url)
    try:
        return client.raw(
            LOGIN, {"email": email, "password": password}, headers={"X-Forwarded-For": address}
        ).json()
    finally:
        client.http.close()


def code(body: dict) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


def unlock(db, address: str) -> None:
    """Let the pair's wait run out (instead of sleeping through it)."""
    db.query(models.LoginThrottle).filter_by(account_key=EMAIL, address=address).update(
        {"locked_until": utcnow() - timedelta(seconds=1)}
    )
    db.commit()


# --- (account, address) pairs --------------------------------------------------------------


def test_guessing_from_one_address_does_not_lock_the_owner_out(behind_proxy, sign_in, db) -> None:
    # given an admin, and an attacker at 203.0.113.9 guessing the admin's password
    sign_in(Role.ADMIN, email=EMAIL)
    for _ in range(throttle.FREE_FAILURES):
        assert code(login(behind_proxy, "203.0.113.9", WRONG)) == "UNAUTHENTICATED"
    # then the attacker's address must wait, even with the right password
    refused = login(behind_proxy, "203.0.113.9", PASSWORD)
    assert code(refused) == "RATE_LIMITED"
    assert 0 < refused["errors"][0]["extensions"]["details"]["retryAfterSeconds"] <= 2
    # while the admin, from an address with no failures, signs in at once
    assert login(behind_proxy, "198.51.100.7", PASSWORD)["data"]["login"]["accessToken"]


def test_each_further_failure_doubles_the_wait_and_success_clears_it(
    behind_proxy, sign_in, db
) -> None:
    sign_in(Role.ADMIN, email=EMAIL)
    attacker = "203.0.113.10"
    for _ in range(throttle.FREE_FAILURES):
        login(behind_proxy, attacker, WRONG)
    waits = []
    for _ in range(3):
        unlock(db, attacker)
        assert code(login(behind_proxy, attacker, WRONG)) == "UNAUTHENTICATED"
        waits.append(
            login(behind_proxy, attacker, PASSWORD)["errors"][0]["extensions"]["details"][
                "retryAfterSeconds"
            ]
        )
    assert waits == [4, 8, 16]
    unlock(db, attacker)
    assert login(behind_proxy, attacker, PASSWORD)["data"]["login"]["accessToken"]
    db.expire_all()
    assert db.query(models.LoginThrottle).filter_by(address=attacker).count() == 0
    # a fresh failure after success starts from zero again
    assert code(login(behind_proxy, attacker, WRONG)) == "UNAUTHENTICATED"
    assert login(behind_proxy, attacker, PASSWORD)["data"]["login"]["accessToken"]


def test_unknown_accounts_are_throttled_like_real_ones(behind_proxy, db) -> None:
    for _ in range(throttle.FREE_FAILURES):
        login(behind_proxy, "203.0.113.11", WRONG, email="nobody@example.com")
    assert code(login(behind_proxy, "203.0.113.11", WRONG, email="nobody@example.com")) == (
        "RATE_LIMITED"
    )


def test_waits_are_capped() -> None:
    assert throttle.delay_after(throttle.FREE_FAILURES - 1) is None
    assert throttle.delay_after(throttle.FREE_FAILURES) == timedelta(seconds=2)
    assert throttle.delay_after(1000) == throttle.MAX_DELAY


# --- the per-address ceiling ---------------------------------------------------------------


def test_an_address_spraying_many_accounts_hits_a_ceiling(behind_proxy, sign_in, db) -> None:
    sign_in(Role.SELLER, email="victim@example.com")
    sprayer = "203.0.113.12"
    for n in range(ratelimit.LOGIN_FAILURES_PER_ADDRESS.hits):
        body = login(behind_proxy, sprayer, WRONG, email=f"user{n}@example.com")
        assert code(body) == "UNAUTHENTICATED"
    refused = login(behind_proxy, sprayer, PASSWORD, email="victim@example.com")
    assert code(refused) == "RATE_LIMITED"
    assert "from this address" in refused["errors"][0]["message"]
    # another address is not affected
    assert login(behind_proxy, "198.51.100.8", PASSWORD, email="victim@example.com")["data"]


# --- trusted proxies -----------------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(server, sign_in, db) -> None:
    # the default server trusts no proxy: X-Forwarded-For from 127.0.0.1 is not believed
    sign_in(Role.SELLER, email="s@example.com")
    body = login(server.url, "203.0.113.50", WRONG, email="s@example.com")
    assert code(body) == "UNAUTHENTICATED"
    db.expire_all()
    addresses = {
        e.client_address
        for e in db.query(models.AuditEntry).filter_by(action="security.login_failed")
    }
    assert addresses == {"127.0.0.1"}
    assert db.query(models.LoginThrottle).one().address == "127.0.0.1"


def test_a_trusted_proxy_passes_the_client_address_on(behind_proxy, db) -> None:
    login(behind_proxy, "192.0.2.1, 203.0.113.60", WRONG, email="x@example.com")
    db.expire_all()
    # the right-most hop the trusted proxy appended wins, not what the client wrote first
    assert db.query(models.LoginThrottle).one().address == "203.0.113.60"
    entry = db.query(models.AuditEntry).filter_by(action="security.login_failed").one()
    assert entry.client_address == "203.0.113.60"


def test_client_address_walks_past_trusted_hops_only() -> None:
    trusted = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1")
    assert client_address("127.0.0.1", ["1.2.3.4, 10.1.1.1"], trusted) == "1.2.3.4"
    assert client_address("127.0.0.1", ["6.6.6.6, 1.2.3.4"], trusted) == "1.2.3.4"
    assert client_address("8.8.8.8", ["1.2.3.4"], trusted) == "8.8.8.8"  # peer not trusted
    assert client_address("127.0.0.1", ["junk"], trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", [], trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"  # default: none trusted
    assert trusted[0] == ipaddress.ip_network("10.0.0.0/8")


def test_a_bad_trusted_proxy_setting_fails_at_start() -> None:
    with pytest.raises(ConfigurationError, match="LINKSTAR_TRUSTED_PROXIES"):
        Settings.from_env({"LINKSTAR_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"})
    assert Settings.from_env({}).trusted_proxies == ()


# --- refresh-token reuse (point 9) ---------------------------------------------------------


def test_reusing_a_rotated_refresh_token_ends_the_session(gql, server, sign_in, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    first = gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]
    second = gql(REFRESH, {"t": first["refreshToken"]})["refreshSession"]
    # when the first (rotated) refresh token is presented again
    error = gql.errors(REFRESH, {"t": first["refreshToken"]})[0]
    assert error["extensions"]["code"] == "REFRESH_TOKEN_REUSED"
    # then the whole session ends: the newest refresh and access tokens stop working too
    assert (
        gql.errors(REFRESH, {"t": second["refreshToken"]})[0]["extensions"]["code"]
        == "UNAUTHENTICATED"
    )
    assert (
        GraphQLClient(server.url, second["accessToken"]).raw("{ viewer { email } }").status_code
        == 401
    )
    db.expire_all()
    revoked = db.query(models.AuthSession).filter(models.AuthSession.revoked_at.isnot(None)).all()
    assert [s.revoked_reason for s in revoked] == ["refresh token reused"]
    assert (
        db.query(models.AuditEntry).filter_by(action="security.refresh_token_reused").count() == 1
    )


def test_reuse_ends_only_the_session_it_belongs_to(gql, server, sign_in, db) -> None:
    sign_in(Role.SELLER, email="s@example.com")
    laptop = gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]
    phone = gql(LOGIN, {"email": "s@example.com", "password": PASSWORD})["login"]
    gql(REFRESH, {"t": laptop["refreshToken"]})
    gql.errors(REFRESH, {"t": laptop["refreshToken"]})
    assert gql(REFRESH, {"t": phone["refreshToken"]})["refreshSession"]["accessToken"]
