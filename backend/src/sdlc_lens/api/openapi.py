"""The OpenAPI description: what each route can answer, with the error envelope everywhere.

Routes declare their error statuses with `error_responses(...)`. FastAPI adds a 422 with its
own validation schema to every route that has parameters, whether or not it can answer 422;
`install_openapi` takes those out, so the description lists what the API really returns
(a test checks each documented answer against a real one), and restores the models' examples.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from sdlc_lens.api.middleware import MAX_BODY_BYTES, UNAUTHORIZED_MESSAGE, WRITE_METHODS
from sdlc_lens.api.schemas.common import ErrorEnvelope
from sdlc_lens.db.engine import BUSY_TIMEOUT_MS

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
# Swagger UI's and ReDoc's scripts and styles, served from the installed package.
DOCS_ASSETS_URL = "/docs-assets"

API_DESCRIPTION = f"""
Register a project's sdlc-studio folder, sync it, then browse its documents, statistics
and full-text search.

**Errors** always have the body `{{"error": {{"code": "...", "message": "..."}}}}`; the
code is stable, the message is for people. Besides the answers listed per route, any
request can get:

- `404 NOT_FOUND` for a path that is not a route;
- `405 METHOD_NOT_ALLOWED` for a method the path does not answer (`Allow` lists those it does);
- `403 CROSS_SITE_REQUEST` for a POST, PUT or DELETE that a browser sends from a page of
  another origin that `SDLC_LENS_CORS_ORIGINS` does not list;
- `413 PAYLOAD_TOO_LARGE` for a request body over {MAX_BODY_BYTES} bytes (1 MiB);
- `503` when the database cannot do what was asked, the message saying what to do:
  `DATABASE_BUSY` (with `Retry-After`) for a write that waited {BUSY_TIMEOUT_MS / 1000:g} s for a
  sync's write lock, `DATABASE_READ_ONLY`, `DATABASE_FULL`, `DATABASE_CORRUPT`,
  `DATABASE_UNAVAILABLE`.

Every `GET` also answers `HEAD`. Cross-origin browser access is allowed for the origins in
`SDLC_LENS_CORS_ORIGINS`. When the server sets `SDLC_LENS_API_TOKEN`, requests that change
something (POST, PUT, DELETE) need `Authorization: Bearer <token>` and get
`401 UNAUTHORIZED` without it; reads never need it.
""".strip()

# For FastAPIOffline (package fastapi-offline): /docs (Swagger UI) and /redoc (ReDoc) load
# their scripts and styles from the package's copy, served by this app, instead of a CDN, so
# both work where the browser has no Internet. Swagger UI's online spec validator is off.
OFFLINE_DOCS: dict[str, Any] = {
    "description": API_DESCRIPTION,
    "docs_url": DOCS_URL,
    "redoc_url": REDOC_URL,
    "static_url": DOCS_ASSETS_URL,
    "swagger_ui_parameters": {"validatorUrl": None},
}


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """How one error status is documented: what it means here, and example (code, message)s."""

    description: str
    examples: tuple[tuple[str, str], ...] = ()
    headers: dict[str, Any] | None = None  # OpenAPI header objects, e.g. Retry-After


# How each status is documented unless a route says otherwise.
COMMON_ERRORS = {
    400: ErrorAnswer(
        "The folder cannot be used; the code names the check that failed and the message "
        "echoes the resolved path.",
        (
            ("PATH_NOT_FOUND", "Project sdlc-studio path does not exist on filesystem: /srv/acme"),
            ("PATH_NOT_A_DIRECTORY", "Project sdlc-studio path is a file, not a folder: /srv/a.md"),
            (
                "PATH_NOT_READABLE",
                "Project sdlc-studio path is not readable by the service user (uid 10001): /srv/x",
            ),
            (
                "PATH_OUTSIDE_BASE",
                "sdlc_path must be within the allowed base /data/projects "
                "(SDLC_LENS_ALLOWED_PROJECT_BASE): /etc",
            ),
        ),
    ),
    404: ErrorAnswer("Unknown project.", (("NOT_FOUND", "Project not found"),)),
    413: ErrorAnswer(
        f"The request body is over {MAX_BODY_BYTES} bytes (1 MiB).",
        (("PAYLOAD_TOO_LARGE", f"Request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)"),),
    ),
    422: ErrorAnswer(
        "The request is not valid: each problem as `<where>: <what>`, joined by `; `.",
        (("VALIDATION_ERROR", "query.page: Input should be greater than or equal to 1"),),
    ),
}


def error_responses(
    *statuses: int, own: dict[int, ErrorAnswer] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the envelope schema, its description and
    examples (the route's `own` ones, else the common ones)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer = (own or {}).get(status) or COMMON_ERRORS[status]
        response: dict[str, Any] = {"model": ErrorEnvelope, "description": answer.description}
        if answer.headers:
            response["headers"] = answer.headers
        if answer.examples:
            examples: dict[str, Any] = {}
            for number, (code, message) in enumerate(answer.examples, start=1):
                name = code if code not in examples else f"{code}_{number}"
                examples[name] = {"value": {"error": {"code": code, "message": message}}}
            response["content"] = {"application/json": {"examples": examples}}
        responses[status] = response
    return responses


_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_SCHEMAS_PACKAGE = "sdlc_lens.api.schemas."


def exact_bounds(node: Any) -> None:
    """Write whole-number bounds as integers: FastAPI makes them floats, and a float names
    2**63 as 9.223372036854776e18, which readers of the JSON may round either way."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = int(value)
            else:
                exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            exact_bounds(item)


def model_examples() -> dict[str, list[Any]]:
    """The examples each API model declares, by model (= component) name."""
    found: dict[str, list[Any]] = {}
    classes: list[type[BaseModel]] = [BaseModel]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        extra = cls.model_config.get("json_schema_extra")
        if callable(extra):  # a function that edits the schema, examples included
            examples = cls.model_json_schema().get("examples")
        else:
            examples = extra.get("examples") if isinstance(extra, dict) else None
        if cls.__module__.startswith(_SCHEMAS_PACKAGE) and isinstance(examples, list):
            found[cls.__name__] = examples
    return found


SECURITY_SCHEME = "writeToken"
_WRITE_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "The server's SDLC_LENS_API_TOKEN. Only requests that change something "
    "(POST, PUT, DELETE) need it; reads never do.",
}
_UNAUTHORIZED: dict[str, Any] = {
    "description": "The request changes something and carries no valid token "
    "(`WWW-Authenticate: Bearer`).",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "example": "Bearer"}},
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
            "example": {"error": {"code": "UNAUTHORIZED", "message": UNAUTHORIZED_MESSAGE}},
        }
    },
}


def require_write_token(schema: dict[str, Any]) -> None:
    """Document the bearer token and its 401 on every state-changing operation. Only done
    when the server requires it, so that the description states what this server does."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = _WRITE_TOKEN_SCHEME
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            if method.upper() in WRITE_METHODS:
                operation["security"] = [{SECURITY_SCHEME: []}]
                responses = operation.setdefault("responses", {})
                responses["401"] = _with_unauthorized(responses.get("401"))


def _with_unauthorized(answer: dict[str, Any] | None) -> dict[str, Any]:
    """The route's own 401 (a token GitHub refused) and the write token's, documented as one."""
    if answer is None:
        return _UNAUTHORIZED
    examples = dict(answer["content"]["application/json"].get("examples", {}))
    examples["UNAUTHORIZED"] = {"value": _UNAUTHORIZED["content"]["application/json"]["example"]}
    return {
        **answer,
        "description": f"{answer['description']} Or: {_UNAUTHORIZED['description']}",
        "headers": {**answer.get("headers", {}), **_UNAUTHORIZED["headers"]},
        "content": {
            "application/json": {**answer["content"]["application/json"], "examples": examples}
        },
    }


def install_openapi(app: FastAPI, *, write_token_required: bool = False) -> None:
    """Make `app.openapi()` drop FastAPI's automatic 422s, put the models' examples back,
    write integer bounds exactly (see the module docstring and the helpers above), and
    document the write token when the server requires one."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches the schema (and rebuilds it when routes change); removing is
        # idempotent, so it is done on every call.
        schema = generate()
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in str(responses.get("422", "")):
                    del responses["422"]
        components = schema.get("components", {}).get("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            components.pop(name, None)
        # FastAPI drops every null from the description, examples included, which leaves
        # examples that miss required keys: put the models' own back.
        for name, examples in model_examples().items():
            if name in components:
                components[name]["examples"] = examples
        exact_bounds(schema)
        if write_token_required:
            require_write_token(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
