"""Types shared by the request and response models."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# SQLite stores integers in 64 bits: a larger value is refused as input (422) instead of
# failing in the database driver (500).
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1
SqliteInt = Annotated[int, Field(ge=SQLITE_INT_MIN, le=SQLITE_INT_MAX)]


class ResponseModel(BaseModel):
    """A response body: every key always present and no other (the JSON Schema says both, so
    a body that drifts from its model fails validation against the OpenAPI description)."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ErrorDetail(ResponseModel):
    code: str = Field(description="Stable, machine-readable: `NOT_FOUND`, `PATH_NOT_FOUND`, ...")
    message: str = Field(description="For people; never exception text.")


class ErrorEnvelope(ResponseModel):
    """Every error the API answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": {"code": "NOT_FOUND", "message": "Project not found"}}]
        }
    )

    error: ErrorDetail
