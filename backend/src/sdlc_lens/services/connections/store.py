"""The `github_connections` table: a label, the token (sealed by services/tokens.py), the
login GitHub named for it, and when it was last checked. Tokens leave it only as
`masked_token`, or revealed to the code that sends them to GitHub."""

import logging
from typing import Any

from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.exc import IntegrityError

from sdlc_lens.db.engine import write_transaction
from sdlc_lens.db.models import github_connections, projects
from sdlc_lens.errors import (
    ConnectionInUseError,
    InvalidTokenError,
    LabelExistsError,
    NotFoundError,
)
from sdlc_lens.services.tokens import UNREADABLE_REASON, TokenCipher
from sdlc_lens.timeutil import utc_now

logger = logging.getLogger(__name__)

CONNECTION_NOT_FOUND = "Connection not found"
StoredRow = Row[*tuple[Any, ...]]
_TABLE = github_connections
_VIEW_COLUMNS = (
    _TABLE.c.id,
    _TABLE.c.label,
    _TABLE.c.login,
    _TABLE.c.access_token,
    _TABLE.c.created_at,
    _TABLE.c.last_validated_at,
)


def connection_view(row: StoredRow, cipher: TokenCipher) -> dict[str, Any]:
    """The Connection JSON object (SPEC-3 §17): the token only masked."""
    data = dict(row._mapping)
    data["masked_token"] = cipher.mask(data.pop("access_token"))
    return data


def list_connections(conn: Connection, cipher: TokenCipher) -> list[dict[str, Any]]:
    """Every connection, oldest first."""
    rows = conn.execute(select(*_VIEW_COLUMNS).order_by(_TABLE.c.id))
    return [connection_view(row, cipher) for row in rows]


def stored_row(conn: Connection, connection_id: int) -> StoredRow:
    """One connection's row (its token as stored), or NotFoundError."""
    row = conn.execute(select(*_VIEW_COLUMNS).where(_TABLE.c.id == connection_id)).first()
    if row is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    return row


def stored_token(conn: Connection, connection_id: int, cipher: TokenCipher) -> str:
    """A connection's token, or NotFoundError / InvalidTokenError (it cannot be decrypted)."""
    row = stored_row(conn, connection_id)
    token = cipher.reveal(row.access_token)
    if token is None:
        raise InvalidTokenError(unreadable_token(row.label))
    return token


def unreadable_token(label: str) -> str:
    """Why a connection's token cannot be used, and what to do."""
    return (
        f"The token of connection '{label}' {UNREADABLE_REASON}: enter it again "
        "(PUT /api/v1/connections/{id})"
    )


def check_label_free(conn: Connection, label: str) -> None:
    """LabelExistsError when another connection has this label (in any case)."""
    if conn.execute(select(_TABLE.c.id).where(_TABLE.c.label == label)).first() is not None:
        raise LabelExistsError(label_taken(label))


def label_taken(label: str) -> str:
    return f"A connection labelled '{label}' already exists"


def create_connection(engine: Engine, label: str, login: str, sealed_token: str) -> StoredRow:
    """Store a connection whose token GitHub accepted; LabelExistsError if the label went."""
    now = utc_now()
    insert = _TABLE.insert().values(
        label=label,
        login=login,
        access_token=sealed_token,
        created_at=now,
        updated_at=now,
        last_validated_at=now,
    )
    try:
        with write_transaction(engine) as conn:
            row = conn.execute(insert.returning(*_VIEW_COLUMNS)).one()
    except IntegrityError as exc:  # a create with the same label won the race
        raise LabelExistsError(label_taken(label)) from exc
    logger.info("GitHub connection %r stored (id %d, login %s)", label, row.id, login)
    return row


def record_check(
    engine: Engine, connection_id: int, login: str, sealed_token: str | None = None
) -> StoredRow:
    """After GitHub accepted the connection's token: its login and check time, and the new
    token when it was replaced. NotFoundError when the connection was deleted meanwhile."""
    now = utc_now()
    values: dict[str, Any] = {"login": login, "last_validated_at": now, "updated_at": now}
    if sealed_token is not None:
        values["access_token"] = sealed_token
    with write_transaction(engine) as conn:
        row = conn.execute(
            _TABLE.update()
            .where(_TABLE.c.id == connection_id)
            .values(**values)
            .returning(*_VIEW_COLUMNS)
        ).first()
    if row is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    change = "token replaced" if sealed_token is not None else "token checked"
    logger.info("GitHub connection %r: %s (login %s)", row.label, change, login)
    return row


# How many project names the in-use message lists before "and N more".
_NAMED_PROJECTS = 10


def delete_connection(engine: Engine, connection_id: int) -> None:
    """Delete a connection no project uses; ConnectionInUseError names those that do.

    Checked and deleted in one write transaction: a project cannot start using it between.
    """
    with write_transaction(engine) as conn:
        label = conn.execute(select(_TABLE.c.label).where(_TABLE.c.id == connection_id)).scalar()
        if label is None:
            raise NotFoundError(CONNECTION_NOT_FOUND)
        users = list(
            conn.execute(
                select(projects.c.name)
                .where(projects.c.connection_id == connection_id)
                .order_by(projects.c.name)
            ).scalars()
        )
        if users:
            raise ConnectionInUseError(in_use(label, users))
        conn.execute(_TABLE.delete().where(_TABLE.c.id == connection_id))
    logger.info("GitHub connection %r deleted (id %d)", label, connection_id)


def in_use(label: str, names: list[str]) -> str:
    """`Connection 'Work' is used by projects Acme, Billing: ...`."""
    shown = ", ".join(names[:_NAMED_PROJECTS])
    if len(names) > _NAMED_PROJECTS:
        shown += f" and {len(names) - _NAMED_PROJECTS} more"
    return (
        f"Connection '{label}' is used by project(s) {shown}: give them another connection "
        "or token first"
    )
