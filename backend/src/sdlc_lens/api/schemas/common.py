"""Types shared by the request and response models."""

from typing import Annotated

from pydantic import Field

# SQLite stores integers in 64 bits: a larger value is refused as input (422) instead of
# failing in the database driver (500).
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1
SqliteInt = Annotated[int, Field(ge=SQLITE_INT_MIN, le=SQLITE_INT_MAX)]
