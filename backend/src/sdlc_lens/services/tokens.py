"""Access tokens: how they are stored (SPEC-3 §16.2), shown, and chosen for a sync (§16.1).

A token is written through `TokenCipher.seal` and read back through `TokenCipher.reveal`,
nowhere else. With a key (SDLC_LENS_TOKEN_ENCRYPTION_KEY, or the file that
SDLC_LENS_TOKEN_ENCRYPTION_KEY_FILE names), a stored token is `enc:v1:<Fernet token>`; without
one it is stored as it is. A stored value without the prefix is plaintext from before the key
was set: still used, and encrypted when it is next written. A value that cannot be decrypted
(the key changed or is gone) is no token at all: never sent, masked as null, and a sync that
needs it fails saying that it must be entered again.

The API shows a token only masked (`mask_token`). Neither a token nor its ciphertext goes into
a response, a log line or an error message: `repr` of these objects shows neither.

For a sync of a repository: `SyncTokens(engine, cipher).token_for(location)` is the token to
send, or None for a public repository, or SourceError saying why there is none to use.
"""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select

from sdlc_lens.db.models import github_connections, projects
from sdlc_lens.errors import SourceError
from sdlc_lens.services.sources.source import ProjectLocation

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)

ENCRYPTED_PREFIX = "enc:v1:"
KEY_VARIABLE = "SDLC_LENS_TOKEN_ENCRYPTION_KEY"
KEY_VARIABLES = f"{KEY_VARIABLE} (or {KEY_VARIABLE}_FILE)"
MASK = "****"
UNREADABLE_REASON = (
    f"cannot be decrypted ({KEY_VARIABLE} is not set or is not the key it was encrypted with)"
)


def mask_token(token: str | None) -> str | None:
    """`"****"` and the token's last four characters (`"****"` alone when it has four or
    fewer); None for no token."""
    if not token:
        return None
    return MASK + token[-4:] if len(token) > 4 else MASK


class TokenCipher:
    """Seals tokens for storage and reveals stored ones, with the configured key or none."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str | None) -> None:
        self._fernet: Fernet | None = None
        if key:
            # Imported only with a key: loading cryptography's Rust extension (12 MB) is
            # about 20 ms of every start that has none.
            from cryptography import fernet

            self._fernet = fernet.Fernet(key)

    def __repr__(self) -> str:
        return f"TokenCipher(encrypting={self.encrypting})"

    @property
    def encrypting(self) -> bool:
        """Whether tokens are stored encrypted (a key is set)."""
        return self._fernet is not None

    def seal(self, token: str) -> str:
        """The value to store for `token`."""
        if self._fernet is None:
            return token
        return ENCRYPTED_PREFIX + self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def reveal(self, stored: str | None) -> str | None:
        """The token a stored value holds; None for none, or for one that cannot be decrypted."""
        if not stored:
            return None
        if not stored.startswith(ENCRYPTED_PREFIX):
            return stored  # stored before the key was set
        if self._fernet is None:
            return None
        from cryptography.fernet import InvalidToken  # loaded with the key (__init__)

        try:
            return self._fernet.decrypt(stored.removeprefix(ENCRYPTED_PREFIX)).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            return None

    def mask(self, stored: str | None) -> str | None:
        """The masked form of a stored token; None when there is no usable one."""
        return mask_token(self.reveal(stored))

    def reseal(self, stored: str | None) -> str | None:
        """A stored value as it should be stored now: plaintext from before the key was set
        gets encrypted; anything else (already encrypted, undecryptable, none) is kept."""
        if stored is None or self._fernet is None or stored.startswith(ENCRYPTED_PREFIX):
            return stored
        return self.seal(stored)


def connection_token(conn: Connection, connection_id: int, cipher: TokenCipher) -> str:
    """The token of a stored connection, or SourceError when it is gone or unreadable."""
    row = conn.execute(
        select(github_connections.c.label, github_connections.c.access_token).where(
            github_connections.c.id == connection_id
        )
    ).first()
    if row is None:
        raise SourceError(
            f"The GitHub connection this project uses (id {connection_id}) was deleted: "
            "choose another connection or enter an access token in the project's settings"
        )
    token = cipher.reveal(row.access_token)
    if token is None:
        raise SourceError(
            f"The access token of GitHub connection '{row.label}' {UNREADABLE_REASON}: "
            "enter it again on the Settings page"
        )
    return token


def token_for_sync(conn: Connection, location: ProjectLocation, cipher: TokenCipher) -> str | None:
    """The token a sync of this project sends (SPEC-3 §16.1): its connection's when it names
    one, else its own, else None (a public repository). Never falls back to no token when the
    one it should use is missing or unreadable: SourceError, worded for `sync_error`."""
    if location.connection_id is not None:
        return connection_token(conn, location.connection_id, cipher)
    if location.access_token is None:
        return None
    token = cipher.reveal(location.access_token)
    if token is None:
        raise SourceError(
            f"The project's access token {UNREADABLE_REASON}: enter it again in the "
            "project's settings"
        )
    return token


@dataclass(frozen=True, slots=True)
class SyncTokens:
    """What a repository source asks for the token of the project it opens."""

    engine: Engine
    cipher: TokenCipher

    def token_for(self, location: ProjectLocation) -> str | None:
        """As `token_for_sync`, on a connection of its own."""
        with self.engine.connect() as conn:
            return token_for_sync(conn, location, self.cipher)


def stored_token_warnings(conn: Connection, cipher: TokenCipher) -> list[str]:
    """The warnings to log at start about the stored tokens: kept unencrypted for want of a
    key, or unusable because they cannot be decrypted. One line per kind, counts only."""
    stored = [
        *conn.execute(
            select(projects.c.access_token).where(projects.c.access_token.is_not(None))
        ).scalars(),
        *conn.execute(select(github_connections.c.access_token)).scalars(),
    ]
    plaintext = sum(1 for value in stored if not value.startswith(ENCRYPTED_PREFIX))
    unreadable = sum(1 for value in stored if cipher.reveal(value) is None)
    warnings = []
    if plaintext and not cipher.encrypting:
        warnings.append(
            f"{plaintext} access token(s) are stored unencrypted: set {KEY_VARIABLES} to a "
            "Fernet key to encrypt them (docs/operations.md)"
        )
    if unreadable:
        warnings.append(
            f"{unreadable} stored access token(s) {UNREADABLE_REASON}: they are not used "
            "until they are entered again"
        )
    return warnings
