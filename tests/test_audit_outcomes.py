"""Every root mutation field is audited with its own outcome, and a mutation whose audit entry
cannot be written does not run (issue #12 point 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from linkstar.core.identity.models import Account, AuditEntry
from linkstar.core.kernel.vocabulary import Role
from tests.harness import global_id


def staff_account(alias: str, email: str) -> str:
    return (
        f'{alias}: createStaffAccount(email: "{email}", password: "a long staff passphrase",'
        f' displayName: "{alias}", role: ADMIN) {{ email }}'
    )


def entries(db, action: str) -> list[tuple[str | None, str, list[str]]]:
    db.expire_all()
    return [
        (e.target, e.outcome.value, e.details.get("codes"))
        for e in db.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
    ]


def test_each_aliased_root_field_is_booked_with_its_own_outcome(sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    first = staff_account("first", "first@linkstar.example")
    again = staff_account("again", "first@linkstar.example")  # fails: the address is taken
    never = staff_account("never", "never@linkstar.example")  # not run: a non-null sibling failed
    document = f"mutation {{ {first} {again} {never} }}"
    response = admin.raw(document).json()
    assert response["data"] is None
    assert [e["path"] for e in response["errors"]] == [["again"]]
    code = response["errors"][0]["extensions"]["code"]
    assert entries(db, "mutation.createStaffAccount") == [
        ("email=first@linkstar.example", "SUCCESS", []),
        ("email=first@linkstar.example", "FAILED", [code]),
    ]
    assert db.query(Account).filter_by(email="first@linkstar.example").count() == 1
    assert db.query(Account).filter_by(email="never@linkstar.example").count() == 0


def test_an_account_created_beside_a_failing_field_is_booked_success(sign_in, db) -> None:
    """The issue's case: the created account was booked with its sibling's error."""
    admin = sign_in(Role.ADMIN)
    missing_alert = global_id("Alert", 999_999)
    created = staff_account("a", "created@linkstar.example")
    document = f'mutation {{ {created} b: markAlertRead(alert: "{missing_alert}") {{ id }} }}'
    response = admin.raw(document).json()
    assert [e["path"] for e in response["errors"]] == [["b"]]
    code = response["errors"][0]["extensions"]["code"]
    assert entries(db, "mutation.createStaffAccount") == [
        ("email=created@linkstar.example", "SUCCESS", [])
    ]
    assert [outcome for _, outcome, _ in entries(db, "mutation.markAlertRead")] == [
        "DENIED" if code in ("FORBIDDEN", "RATE_LIMITED") else "FAILED"
    ]


def _actions(db) -> list[tuple[str, str]]:
    db.expire_all()
    return [(e.action, e.outcome.value) for e in db.query(AuditEntry).order_by(AuditEntry.id)]


def test_invalid_text_beside_a_privileged_mutation_refuses_the_whole_request(sign_in, db) -> None:
    """The attack from the issue: an admin account created beside an unauditable argument."""
    admin = sign_in(Role.ADMIN)
    hidden = staff_account("a", "hidden@linkstar.example")
    threshold = 'b: setAlertThreshold(category: "x\\u0000", metric: "m", threshold: "1")'
    document = f"mutation {{ {hidden} {threshold} }}"
    response = admin.raw(document).json()
    assert response["errors"][0]["extensions"]["code"] == "INVALID_TEXT"
    assert db.query(Account).filter_by(email="hidden@linkstar.example").count() == 0
    variables = admin.raw(
        'mutation($c: String!) { setAlertThreshold(category: $c, metric: "m", threshold: "1") }',
        {"c": "x\x00"},
    )
    assert (
        variables.status_code == 400
        and variables.json()["errors"][0]["extensions"]["code"] == "INVALID_TEXT"
    )


@contextmanager
def broken_audit_store(sync_engine) -> Iterator[None]:
    """The audit table refuses every insert (a real trigger, on either database)."""
    with sync_engine.begin() as connection:
        if sync_engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN"
                    " RAISE EXCEPTION 'audit store broken'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log"
                    " FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log"
                    " BEGIN SELECT RAISE(ABORT, 'audit store broken'); END"
                )
            )
    try:
        yield
    finally:
        with sync_engine.begin() as connection:
            connection.execute(
                text(
                    "DROP TRIGGER refuse_audit"
                    + (" ON audit_log" if sync_engine.dialect.name == "postgresql" else "")
                )
            )
            if sync_engine.dialect.name == "postgresql":
                connection.execute(text("DROP FUNCTION refuse_audit()"))


def test_a_mutation_whose_audit_cannot_be_written_does_not_run(sign_in, db, sync_engine) -> None:
    admin = sign_in(Role.ADMIN)
    unaudited = staff_account("a", "unaudited@linkstar.example")
    with broken_audit_store(sync_engine):
        response = admin.raw(f"mutation {{ {unaudited} }}")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert db.query(Account).filter_by(email="unaudited@linkstar.example").count() == 0
