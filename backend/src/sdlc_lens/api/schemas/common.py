"""Types shared by the request and response models."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# SQLite stores integers in 64 bits: a larger value is refused as input (422) instead of
# failing in the database driver (500). The bounds are powers of two so that the OpenAPI
# description, which FastAPI writes as floats, states them exactly (2**63 - 1 is no float).
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_LIMIT = 2**63  # exclusive


def whole_number(value: object) -> object:
    """`5.0` -> `5`: JSON Schema counts a number without a fraction as an integer, while the
    request models are strict (they take no `"5"` for 5, no `1` for true)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


SqliteInt = Annotated[
    int, BeforeValidator(whole_number), Field(ge=SQLITE_INT_MIN, lt=SQLITE_INT_LIMIT)
]


def valid_unicode(value: str) -> str:
    """Refuse a lone surrogate (`"\\ud800"` in JSON): no database, file name or UTF-8 answer
    can hold one, so it would fail later as a 500."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it has a lone surrogate)") from None
    return value


# Every string a request carries. With constraints of its own, a string type is written
# `Annotated[str, Field(...), VALID_UNICODE]`: constraints placed after the validator would be
# checked as a sequence's ("at least 1 item") rather than a string's.
VALID_UNICODE = AfterValidator(valid_unicode)
Text = Annotated[str, VALID_UNICODE]


def with_examples(*examples: dict[str, Any]) -> ConfigDict:
    """A model config whose JSON Schema (and so the OpenAPI description) shows `examples`."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ResponseModel(BaseModel):
    """A response body: every key always present and no other (the JSON Schema says both, so
    a body that drifts from its model fails validation against the OpenAPI description)."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ErrorDetail(ResponseModel):
    code: str = Field(description="Stable, machine-readable: `NOT_FOUND`, `PATH_NOT_FOUND`, ...")
    message: str = Field(description="For people; never exception text.")


class ErrorEnvelope(ResponseModel):
    """Every error the API answers."""

    model_config = with_examples({"error": {"code": "NOT_FOUND", "message": "Project not found"}})

    error: ErrorDetail
