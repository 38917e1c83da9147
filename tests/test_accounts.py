"""Accounts in the core: key slots per session and token, sign-in, revocation, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from evidence import keyring
from evidence.accounts import Accounts, Limits, RateLimited
from evidence.errors import Conflict, InvalidInput, WrongSecret
from evidence.store.schema import credentials, key_slots
from tests.conftest import cheap_kdf

PASSWORD = "password for tests"


@pytest.fixture
def service(store) -> Accounts:
    return Accounts(store, kdf=cheap_kdf, limits=Limits(per_client=5, per_name=3))


def test_session_slot_opens_the_log_and_revoking_it_closes_it(service, store) -> None:
    service.sign_up("alice", PASSWORD)
    issued = service.sign_in("Alice ", PASSWORD, keyring.SESSION)
    account, log, credential = service.authenticate(issued.secret, keyring.SESSION)
    assert log.log_id == account.log_id == issued.account.log_id
    with store.engine.connect() as conn:
        row = conn.execute(select(credentials).where(credentials.c.id == credential.id)).one()
        slot = conn.execute(select(key_slots).where(key_slots.c.id == credential.id)).one()
    assert issued.secret.encode() not in row.secret_hash + slot.wrapped
    assert slot.kind == keyring.SESSION
    service.revoke(account, credential.id)
    with pytest.raises(WrongSecret):
        service.authenticate(issued.secret, keyring.SESSION)
    with store.engine.connect() as conn:
        assert (
            conn.execute(select(key_slots).where(key_slots.c.id == credential.id)).first() is None
        )


def test_a_session_is_not_a_token_and_a_forged_secret_fails(service) -> None:
    service.sign_up("bob", PASSWORD)
    issued = service.sign_in("bob", PASSWORD, keyring.SESSION)
    with pytest.raises(WrongSecret):
        service.authenticate(issued.secret, keyring.TOKEN)
    forged = issued.secret[:-5] + ("AAAAA" if not issued.secret.endswith("AAAAA") else "BBBBB")
    for bad in (forged, "", "evs_x", issued.secret + "A"):
        with pytest.raises(WrongSecret):
            service.authenticate(bad, keyring.SESSION)


def test_unknown_name_and_wrong_password_look_the_same(service) -> None:
    service.sign_up("carol", PASSWORD)
    with pytest.raises(WrongSecret) as unknown:
        service.sign_in("nobody", PASSWORD, keyring.SESSION)
    with pytest.raises(WrongSecret) as wrong:
        service.sign_in("carol", "not the password", keyring.SESSION)
    assert str(unknown.value) == str(wrong.value)


def test_names_are_unique_and_checked(service) -> None:
    service.sign_up("dave", PASSWORD)
    with pytest.raises(Conflict):
        service.sign_up("DAVE", PASSWORD)
    with pytest.raises(InvalidInput):
        service.sign_up("x", PASSWORD)
    with pytest.raises(InvalidInput):
        service.sign_up("erin", "short")


def test_expired_sessions_fail(store) -> None:
    service = Accounts(store, kdf=cheap_kdf, session_ttl=timedelta(seconds=2))
    service.sign_up("frank", PASSWORD)
    issued = service.sign_in("frank", PASSWORD, keyring.SESSION)
    for _ in range(5):
        store.clock()
    with pytest.raises(WrongSecret):
        service.authenticate(issued.secret, keyring.SESSION)


def test_change_password_ends_other_sessions_and_tokens(service) -> None:
    service.sign_up("grace", PASSWORD)
    here = service.sign_in("grace", PASSWORD, keyring.SESSION)
    other = service.sign_in("grace", PASSWORD, keyring.SESSION)
    token = service.sign_in("grace", PASSWORD, keyring.TOKEN)
    service.change_password(
        here.account, here.log, PASSWORD, "a new password", keep=here.credential.id
    )
    service.authenticate(here.secret, keyring.SESSION)
    for gone in (other.secret, token.secret):
        kind = keyring.TOKEN if gone.startswith("evt_") else keyring.SESSION
        with pytest.raises(WrongSecret):
            service.authenticate(gone, kind)
    with pytest.raises(WrongSecret):
        service.sign_in("grace", PASSWORD, keyring.SESSION)
    service.sign_in("grace", "a new password", keyring.SESSION)


def test_rate_limits_count_in_the_database(service, store) -> None:
    for _ in range(3):
        service.throttle("signin", "10.0.0.1", "heidi")
    with pytest.raises(RateLimited):
        service.throttle("signin", "10.0.0.2", "heidi")
    second = Accounts(store, kdf=cheap_kdf, limits=Limits(per_client=5, per_name=3))
    with pytest.raises(RateLimited):  # another worker sees the same counts
        second.throttle("signin", "10.0.0.3", "heidi")
    service.throttle("signin", "10.0.0.1", "ivan")  # the client's 4th and 5th attempts
    service.throttle("signin", "10.0.0.1", "judy")
    with pytest.raises(RateLimited):
        service.throttle("signin", "10.0.0.1", "kim")
