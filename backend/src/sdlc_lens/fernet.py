"""Fernet tokens (the cryptography package's format), with the OpenSSL Python already uses.

A stored access token is a Fernet token (https://github.com/fernet/spec): version 0x80, the
time, a random IV, AES-128-CBC with PKCS#7 padding under the key's second half, and an
HMAC-SHA256 under its first half over all of that, in URL-safe base64. HMAC, SHA-256, base64
and the random IV come from the standard library; AES-128-CBC from the libcrypto that Python's
own `_hashlib` is linked against (OpenSSL, in the image the base image's). This replaces the
cryptography package, whose wheel carries its own copy of OpenSSL (15 MB, a tenth of the
image) for these few calls; tokens stay readable and writable by it (a test checks both ways).

The MAC is checked, in constant time, before anything is decrypted. Any token that is not
valid raises InvalidFernetToken, saying nothing about why.
"""

import base64
import binascii
import ctypes
import ctypes.util
import functools
import hashlib
import hmac
import os
import time
from pathlib import Path

_VERSION = b"\x80"
_BLOCK = 16  # AES block and IV size
_MAC = 32  # HMAC-SHA256
_HEADER = 1 + 8 + _BLOCK  # version, timestamp, IV


class InvalidFernetToken(Exception):
    """A token that is not one this key made (wrong key, altered, truncated, not base64)."""


def encrypt(key: bytes, data: bytes, *, now: int | None = None, iv: bytes | None = None) -> str:
    """The Fernet token of `data` under the 32-byte `key` (`now` and `iv` only for tests)."""
    iv = os.urandom(_BLOCK) if iv is None else iv
    stamp = int(time.time()) if now is None else now
    body = _VERSION + stamp.to_bytes(8, "big") + iv + _aes_cbc(key[16:], iv, data, encrypt=True)
    mac = hmac.digest(key[:16], body, hashlib.sha256)
    return base64.urlsafe_b64encode(body + mac).decode("ascii")


def decrypt(key: bytes, token: str) -> bytes:
    """The data in a Fernet token made with `key`; InvalidFernetToken for any other token."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidFernetToken from None
    if (
        len(raw) < _HEADER + _BLOCK + _MAC
        or raw[:1] != _VERSION
        or (len(raw) - _HEADER - _MAC) % _BLOCK
    ):
        raise InvalidFernetToken
    body, mac = raw[:-_MAC], raw[-_MAC:]
    if not hmac.compare_digest(mac, hmac.digest(key[:16], body, hashlib.sha256)):
        raise InvalidFernetToken
    iv = body[9:_HEADER]
    try:
        return _aes_cbc(key[16:], iv, body[_HEADER:], encrypt=False)
    except ValueError:
        raise InvalidFernetToken from None  # bad padding (only with a forged MAC)


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    """AES-128-CBC with PKCS#7 padding; ValueError when decrypting finds bad padding."""
    lib = _libcrypto()
    ctx = lib.EVP_CIPHER_CTX_new()
    if not ctx:
        raise MemoryError("EVP_CIPHER_CTX_new failed")
    try:
        if encrypt:
            init, update, final = (
                lib.EVP_EncryptInit_ex,
                lib.EVP_EncryptUpdate,
                lib.EVP_EncryptFinal_ex,
            )
        else:
            init, update, final = (
                lib.EVP_DecryptInit_ex,
                lib.EVP_DecryptUpdate,
                lib.EVP_DecryptFinal_ex,
            )
        if init(ctx, lib.EVP_aes_128_cbc(), None, key, iv) != 1:
            raise ValueError("AES-128-CBC could not be set up")
        out = ctypes.create_string_buffer(len(data) + _BLOCK)
        written, last = ctypes.c_int(0), ctypes.c_int(0)
        if update(ctx, out, ctypes.byref(written), data, len(data)) != 1:
            raise ValueError("AES-128-CBC failed")
        tail = ctypes.cast(ctypes.addressof(out) + written.value, ctypes.c_char_p)
        if final(ctx, tail, ctypes.byref(last)) != 1:
            raise ValueError("bad padding")
        return out.raw[: written.value + last.value]
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)


@functools.cache
def _libcrypto() -> ctypes.CDLL:
    """OpenSSL's libcrypto, the one Python's hashlib is built on when it can be found."""
    lib = ctypes.CDLL(_libcrypto_path())
    pointer, buffer, length = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    lib.EVP_CIPHER_CTX_new.restype = pointer
    lib.EVP_CIPHER_CTX_new.argtypes = []
    lib.EVP_CIPHER_CTX_free.restype = None
    lib.EVP_CIPHER_CTX_free.argtypes = [pointer]
    lib.EVP_aes_128_cbc.restype = pointer
    lib.EVP_aes_128_cbc.argtypes = []
    for step in ("Encrypt", "Decrypt"):
        init = getattr(lib, f"EVP_{step}Init_ex")
        init.restype = length
        init.argtypes = [pointer, pointer, pointer, buffer, buffer]
        update = getattr(lib, f"EVP_{step}Update")
        update.restype = length
        update.argtypes = [pointer, buffer, ctypes.POINTER(length), buffer, length]
        final = getattr(lib, f"EVP_{step}Final_ex")
        final.restype = length
        final.argtypes = [pointer, buffer, ctypes.POINTER(length)]
    return lib


def _libcrypto_path() -> str:
    import _hashlib  # noqa: F401  (loads the libcrypto Python itself uses)

    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
            if "/libcrypto.so" in path:
                return path
    found = ctypes.util.find_library("crypto")
    if found is None:
        raise OSError("OpenSSL's libcrypto was not found")
    return found
