"""Stored tokens are Fernet tokens: the cryptography package (the reference implementation, a
test dependency only) reads what the service writes, and the service reads what it writes."""

import base64

import pytest
from cryptography.fernet import Fernet, InvalidToken

from sdlc_lens import fernet
from sdlc_lens.config import fernet_key_bytes

KEY = Fernet.generate_key().decode()
RAW = fernet_key_bytes(KEY)
SECRETS = [
    b"",
    b"x",
    b"ghp_" + b"a" * 36,
    b"sixteen bytes!!!",
    "ünïcødé".encode(),
    bytes(range(256)),
]


@pytest.mark.parametrize("data", SECRETS)
def test_both_implementations_read_each_others_tokens(data: bytes) -> None:
    reference = Fernet(KEY)
    assert reference.decrypt(fernet.encrypt(RAW, data)) == data
    assert fernet.decrypt(RAW, reference.encrypt(data).decode()) == data


def test_the_same_iv_and_time_give_the_reference_token_byte_for_byte() -> None:
    iv, now = bytes(range(16)), 499_162_800
    ours = fernet.encrypt(RAW, b"hello", now=now, iv=iv)
    theirs = Fernet(KEY)._encrypt_from_parts(b"hello", now, iv).decode()
    assert ours == theirs


def test_every_token_is_new() -> None:
    assert fernet.encrypt(RAW, b"same") != fernet.encrypt(RAW, b"same")  # a random IV each


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


def test_tokens_it_cannot_trust_are_refused_as_the_reference_refuses_them() -> None:
    token = fernet.encrypt(RAW, b"ghp_secret")
    other = fernet_key_bytes(Fernet.generate_key().decode())
    forged = [
        _flip(token, 0),  # version
        _flip(token, 5),  # time
        _flip(token, 12),  # IV
        _flip(token, 30),  # ciphertext
        _flip(token, -1),  # MAC
        token[:-8],  # truncated
        "",
        "not base64 at all!",
        "gAAAAA",
    ]
    for bad in forged:
        with pytest.raises(InvalidToken):
            Fernet(KEY).decrypt(bad)
        with pytest.raises(fernet.InvalidFernetToken):
            fernet.decrypt(RAW, bad)
    with pytest.raises(fernet.InvalidFernetToken):
        fernet.decrypt(other, token)  # another key


def test_a_valid_mac_over_bad_padding_is_refused() -> None:
    """Only someone with the key could make this; it still raises the one error, no crash."""
    import hashlib
    import hmac

    body = b"\x80" + (1).to_bytes(8, "big") + bytes(16) + bytes(range(32))
    mac = hmac.digest(RAW[:16], body, hashlib.sha256)
    token = base64.urlsafe_b64encode(body + mac).decode()
    with pytest.raises(fernet.InvalidFernetToken):
        fernet.decrypt(RAW, token)
