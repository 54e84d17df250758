"""The OAuth `state`: it proves the callback belongs to a connect flow this installation started."""

from __future__ import annotations

import os

import pytest

from adapters.qbo.oauth_state import OAuthStateError, StateSigner


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


KEY = os.urandom(32)


def test_a_state_we_issued_verifies_and_names_its_tenant():
    signer = StateSigner(KEY)
    assert signer.verify(signer.issue("acme")) == "acme"


def test_a_state_can_be_used_only_once():
    signer = StateSigner(KEY)
    state = signer.issue("acme")
    signer.verify(state)
    with pytest.raises(OAuthStateError, match="already used"):
        signer.verify(state)


def test_a_tampered_state_is_refused():
    signer = StateSigner(KEY)
    payload, mac = signer.issue("acme").split(".")
    forged = StateSigner(KEY).issue("evil").split(".")[0]
    with pytest.raises(OAuthStateError, match="signature"):
        signer.verify(f"{forged}.{mac}")
    with pytest.raises(OAuthStateError, match="malformed"):
        signer.verify(payload)


def test_a_state_from_another_installation_is_refused():
    with pytest.raises(OAuthStateError, match="signature"):
        StateSigner(KEY).verify(StateSigner(os.urandom(32)).issue("acme"))


def test_an_expired_state_is_refused():
    clock = Clock()
    signer = StateSigner(KEY, ttl_s=600, clock=clock)
    state = signer.issue("acme")
    clock.now += 601
    with pytest.raises(OAuthStateError, match="expired"):
        signer.verify(state)
