"""Sign-up without enumeration, proven addresses and throttled sign-ups (issue #12, point 4)."""

from __future__ import annotations

from linkstar.core.identity import ratelimit
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime import tables as models
from tests.harness import LOGIN, VERIFY, mailbox, mailed_token
from tests.test_identity import provider
from tests.test_onboarding import REGISTER, registration

SIGN_UP = """mutation($email: String!) { signUpSeller(email: $email,
  password: "long enough passphrase", displayName: "Buyer") { email message } }"""
PASSWORD = "long enough passphrase"
REQUEST = "mutation($e: String!) { requestEmailVerification(email: $e) { email message } }"


def code(errors: list[dict]) -> str:
    return errors[0]["extensions"]["code"]


def test_a_seller_signs_in_only_after_proving_the_address(gql, db) -> None:
    gql(SIGN_UP, {"email": "buyer@example.com"})
    # the right password before confirming: told to confirm (only the password owner sees this)
    early = gql.errors(LOGIN, {"email": "buyer@example.com", "password": PASSWORD})
    assert code(early) == "EMAIL_NOT_VERIFIED"
    token = mailed_token("buyer@example.com")
    signed_in = gql(VERIFY, {"t": token})["verifyEmail"]
    assert signed_in["account"] == {
        "email": "buyer@example.com",
        "role": "SELLER",
        "isProviderOwner": False,
        "provider": None,
    }
    assert gql(LOGIN, {"email": "buyer@example.com", "password": PASSWORD})["login"]
    assert code(gql.errors(VERIFY, {"t": token})) == "VERIFICATION_INVALID"  # single use
    db.expire_all()
    account = db.query(models.Account).filter_by(email="buyer@example.com").one()
    assert account.email_verified_at is not None


def test_a_new_token_can_be_asked_for_and_the_answer_is_uniform(gql, db) -> None:
    gql(SIGN_UP, {"email": "late@example.com"})
    unknown = gql(REQUEST, {"e": "nobody@example.com"})["requestEmailVerification"]
    known = gql(REQUEST, {"e": "late@example.com"})["requestEmailVerification"]
    assert unknown["message"] == known["message"]
    assert mailbox("nobody@example.com") == []
    assert len(mailbox("late@example.com")) == 2
    assert gql(VERIFY, {"t": mailed_token("late@example.com")})["verifyEmail"]["accessToken"]


def test_registering_with_a_taken_address_answers_like_any_registration(gql, sign_in, db) -> None:
    sign_in(Role.SELLER, email="taken@example.com")
    variables = {
        "account": {
            "email": "taken@example.com",
            "password": "a long owner passphrase",
            "displayName": "T",
        },
        "provider": registration("OVERSEAS", "Taken Address Ltd"),
    }
    answer = gql(REGISTER, variables)["registerProvider"]
    fresh = dict(variables, account=dict(variables["account"], email="fresh@example.com"))
    fresh["provider"] = registration("OVERSEAS", "Fresh Address Ltd")
    assert gql(REGISTER, fresh)["registerProvider"]["message"] == answer["message"]
    assert db.query(models.Provider).filter_by(legal_name="Taken Address Ltd").count() == 0
    assert mailbox("taken@example.com")[-1][0] == (
        "LinkStar: someone tried to sign up with your address"
    )


def test_sign_ups_from_one_address_are_limited(gql, db) -> None:
    for n in range(ratelimit.SIGN_UPS_PER_ADDRESS.hits):
        gql(SIGN_UP, {"email": f"bulk{n}@example.com"})
    refused = gql.errors(SIGN_UP, {"email": "one-more@example.com"})
    assert code(refused) == "RATE_LIMITED"
    assert db.query(models.Account).filter_by(email="one-more@example.com").count() == 0


def test_an_inviter_cannot_accept_for_someone_else(gql, sign_in, db) -> None:
    acme = provider(db)
    owner = sign_in(Role.PARTNER, provider_id=acme.id, owner=True, email="owner@acme.example")
    invited = owner('mutation { inviteMember(email: "third@party.example") { email token } }')
    assert invited["inviteMember"]["token"] is None
    # the token reached the invited address only, not the inviter's
    assert [s for s, _ in mailbox("owner@acme.example")] == []
    assert mailbox("third@party.example")[0][0] == "LinkStar: you are invited to join a provider"
    accept = 'mutation($t: String!) { acceptInvitation(token: $t, password: "joining with a long phrase", displayName: "Guess") { accessToken } }'
    assert code(gql.errors(accept, {"t": "guessed-token"})) == "INVITATION_INVALID"
    # accepting with the mailed token proves the address: that account signs in at once
    gql(accept, {"t": mailed_token("third@party.example")})
    assert gql(LOGIN, {"email": "third@party.example", "password": "joining with a long phrase"})
