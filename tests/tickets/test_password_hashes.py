"""Passwords are stored as scrypt hashes: the one place the suite hashes as production does (the rest of
the suite uses a cheap hash, see tests/conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.conftest import CHEAP_PASSWORD_HASH, NOW
from tickets import accounts, auth


def test_new_and_changed_passwords_are_stored_with_scrypt(session: Session, production_password_hash) -> None:
    user = accounts.add_user(session, "it-kim", "consultant", password="hotline1379")
    assert (user.password_hash or "").startswith("scrypt:")
    assert "hotline1379" not in (user.password_hash or "")
    assert accounts.password_matches(user, "hotline1379")
    assert not accounts.password_matches(user, "hotline1380")

    accounts.set_password(user, "a-new-password")
    assert (user.password_hash or "").startswith("scrypt:")
    assert accounts.password_matches(user, "a-new-password")
    assert not accounts.password_matches(user, "hotline1379")


def test_a_user_logs_in_with_a_scrypt_hash_and_an_unknown_name_is_refused(
    session: Session, production_password_hash
) -> None:
    accounts.add_user(session, "it-kim", "consultant", password="hotline1379")
    user = auth.authenticate(session, "it-kim", "hotline1379", NOW, address="127.0.0.1")
    assert user.username == "it-kim"
    with pytest.raises(auth.LoginError):
        auth.authenticate(session, "it-lee", "hotline1379", NOW, address="127.0.0.1")


def test_a_stored_hash_keeps_its_own_method_whatever_hashes_new_passwords(
    session: Session, monkeypatch: pytest.MonkeyPatch, production_password_hash
) -> None:
    user = accounts.add_user(session, "it-kim", "consultant", password="hotline1379")
    monkeypatch.setattr(accounts, "PASSWORD_HASH_METHOD", CHEAP_PASSWORD_HASH)
    assert accounts.password_matches(user, "hotline1379")
    other = accounts.add_user(session, "it-lee", "consultant", password="hotline1379")
    assert (other.password_hash or "").startswith("pbkdf2:sha256:1$")
