"""Stored GitHub connections and the repository picker (SPEC-3 §17).

The routes that ask GitHub are `async`: they wait on GitHub, not on a thread. Their short
reads of the database run on the event loop (point reads, see api/deps.py) and their writes
on the thread pool.
"""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from sdlc_lens.api.deps import EngineDep, GitHubApiDep, TokenCipherDep
from sdlc_lens.api.openapi import ErrorAnswer, error_responses
from sdlc_lens.api.responses import json_response
from sdlc_lens.api.schemas.common import SQLITE_INT_LIMIT, SQLITE_INT_MIN
from sdlc_lens.api.schemas.connections import (
    OWNER_PATTERN,
    REPO_PATTERN,
    ConnectionCreate,
    ConnectionOut,
    ConnectionReposOut,
    ConnectionTokenUpdate,
    HasSdlcStudioOut,
    RepoQuery,
    RepositoriesOut,
    SdlcStudioQuery,
    Search,
)
from sdlc_lens.errors import ValidationFailedError
from sdlc_lens.services.connections import store
from sdlc_lens.services.connections.github import REFUSED, GitHubApi
from sdlc_lens.services.connections.repos import (
    ONE_CREDENTIAL,
    connection_repositories,
    has_sdlc_studio,
    repositories_of,
    request_token,
    stored_credentials,
)
from sdlc_lens.services.projects.sources import branch_problem
from sdlc_lens.services.tokens import UNREADABLE_REASON

router = APIRouter(prefix="/connections", tags=["connections"])
picker = APIRouter(prefix="/projects/github", tags=["connections"])

ConnectionIdPath = Annotated[
    int, Path(description="The connection's id", ge=SQLITE_INT_MIN, lt=SQLITE_INT_LIMIT)
]

# How GitHub's answers are documented, on the connection routes (INVALID_TOKEN) and on the
# repository routes (AUTH_FAILED).
_UNREADABLE = f"The token of connection 'Work' {UNREADABLE_REASON}: enter it again"


def _refused(code: str, *unreadable: str) -> ErrorAnswer:
    return ErrorAnswer(
        "GitHub refused the token, or the stored one cannot be decrypted.",
        ((code, REFUSED), *((code, message) for message in unreadable)),
    )


_GITHUB_ANSWERS = {
    429: ErrorAnswer(
        "GitHub is rate limiting the token; `Retry-After` passes on how long to wait.",
        (("RATE_LIMITED", "GitHub is rate limiting this token; try again in 60 s"),),
        headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    ),
    502: ErrorAnswer(
        "GitHub could not be reached, did not answer in time (SDLC_LENS_GITHUB_TIMEOUT_SECONDS), "
        "or answered something unusable.",
        (
            ("GITHUB_ERROR", "GitHub could not be reached (ConnectError on GET /user)"),
            ("GITHUB_ERROR", "GitHub answered 500 to GET /user/repos"),
        ),
    ),
}
_NOT_JSON = ErrorAnswer(
    "The body is not JSON.", (("BAD_REQUEST", "There was an error parsing the body"),)
)
_NOT_FOUND = ErrorAnswer("Unknown connection.", (("NOT_FOUND", store.CONNECTION_NOT_FOUND),))
_LABEL_EXISTS = ErrorAnswer(
    "Another connection has this label (in any case).",
    (("LABEL_EXISTS", store.label_taken("Work")),),
)
_ONE_CREDENTIAL = ErrorAnswer(
    "Both `access_token` and `connection_id` were given, or neither.",
    (("VALIDATION_ERROR", ONE_CREDENTIAL),),
)


def _asking_github(own: dict[int, ErrorAnswer], *, body: bool = True) -> dict[int | str, Any]:
    """`responses=` of a route that asks GitHub: its own answers, GitHub's, 422, and (when it
    takes a body) 413."""
    statuses = {*own, 422, *_GITHUB_ANSWERS} | ({413} if body else set())
    return error_responses(*sorted(statuses), own=own | _GITHUB_ANSWERS)


# What the two repository routes of the picker can answer besides 200.
_PICKER_ERRORS = _asking_github(
    {400: _ONE_CREDENTIAL, 401: _refused("AUTH_FAILED", _UNREADABLE), 404: _NOT_FOUND}
)


async def _login(github: GitHubApi, token: str) -> str:
    async with github.session(token) as session:
        return await session.login()


@router.get("", response_model=list[ConnectionOut])
async def list_connections(engine: EngineDep, cipher: TokenCipherDep) -> Any:
    """Every stored connection, oldest first; tokens only masked."""
    with engine.connect() as conn:
        return json_response(store.list_connections(conn, cipher))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConnectionOut,
    responses=_asking_github({400: _NOT_JSON, 401: _refused("INVALID_TOKEN"), 409: _LABEL_EXISTS}),
)
async def create_connection(
    body: ConnectionCreate, engine: EngineDep, cipher: TokenCipherDep, github: GitHubApiDep
) -> Any:
    """Store a connection once GitHub accepts its token (`GET /user`; its login is kept)."""
    with engine.connect() as conn:
        store.check_label_free(conn, body.label)  # before asking GitHub
    login = await _login(github, body.access_token)
    sealed = cipher.seal(body.access_token)
    row = await run_in_threadpool(store.create_connection, engine, body.label, login, sealed)
    return json_response(store.connection_view(row, cipher), status.HTTP_201_CREATED)


@router.get(
    "/repos",
    response_model=ConnectionReposOut,
    responses=error_responses(
        422,
        own={
            422: ErrorAnswer(
                "`search` is over 200 characters.",
                (("VALIDATION_ERROR", "query.search: String should have at most 200 characters"),),
            )
        },
    ),
)
async def list_connection_repos(
    engine: EngineDep,
    cipher: TokenCipherDep,
    github: GitHubApiDep,
    search: Annotated[Search | None, Query()] = None,
) -> Any:
    """The repositories of every connection, de-duplicated (the oldest connection wins),
    sorted by full_name, at most 200. Always 200: a connection that cannot list its
    repositories, or lists only part of them, is in `degraded` with the reason."""
    with engine.connect() as conn:
        credentials = stored_credentials(conn, cipher)
    return json_response(await connection_repositories(github, credentials, search))


@router.put(
    "/{connection_id:int}",
    response_model=ConnectionOut,
    responses=_asking_github({400: _NOT_JSON, 401: _refused("INVALID_TOKEN"), 404: _NOT_FOUND}),
)
async def replace_token(
    body: ConnectionTokenUpdate,
    engine: EngineDep,
    cipher: TokenCipherDep,
    github: GitHubApiDep,
    connection_id: ConnectionIdPath,
) -> Any:
    """Replace the token: GitHub checks the new one first; a refused one changes nothing."""
    with engine.connect() as conn:
        store.stored_row(conn, connection_id)  # 404 before asking GitHub
    login = await _login(github, body.access_token)
    sealed = cipher.seal(body.access_token)
    row = await run_in_threadpool(store.record_check, engine, connection_id, login, sealed)
    return json_response(store.connection_view(row, cipher))


@router.post(
    "/{connection_id:int}/validate",
    response_model=ConnectionOut,
    responses=_asking_github(
        {401: _refused("INVALID_TOKEN", _UNREADABLE), 404: _NOT_FOUND}, body=False
    ),
)
async def validate_connection(
    engine: EngineDep,
    cipher: TokenCipherDep,
    github: GitHubApiDep,
    connection_id: ConnectionIdPath,
) -> Any:
    """Check the stored token with GitHub again; `login` and `last_validated_at` refreshed."""
    with engine.connect() as conn:
        token = store.stored_token(conn, connection_id, cipher)
    login = await _login(github, token)
    row = await run_in_threadpool(store.record_check, engine, connection_id, login)
    return json_response(store.connection_view(row, cipher))


@router.delete(
    "/{connection_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        404,
        409,
        422,
        own={
            404: _NOT_FOUND,
            409: ErrorAnswer(
                "Projects still use the connection; the message names them.",
                (("CONNECTION_IN_USE", store.in_use("Work", ["Acme Web", "Billing"])),),
            ),
        },
    ),
)
def delete_connection(engine: EngineDep, connection_id: ConnectionIdPath) -> Response:
    """Delete a connection that no project uses."""
    store.delete_connection(engine, connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@picker.post(
    "/repos",
    response_model=RepositoriesOut,
    responses=_PICKER_ERRORS,
)
async def list_repositories(
    engine: EngineDep,
    cipher: TokenCipherDep,
    github: GitHubApiDep,
    body: RepoQuery | None = None,
    search: Annotated[Search | None, Query(description="As `search` in the body")] = None,
) -> Any:
    """The repositories one token (or stored connection) can list, sorted, at most 200."""
    query = body or RepoQuery()
    with engine.connect() as conn:
        token = request_token(conn, cipher, query.access_token, query.connection_id)
    found = await repositories_of(github, token, query.search or search)
    return json_response({"repositories": [asdict(repo) for repo in found]})


@picker.post(
    "/repos/{owner}/{repo}/has-sdlc-studio",
    response_model=HasSdlcStudioOut,
    responses=_PICKER_ERRORS,
)
async def repository_has_sdlc_studio(
    engine: EngineDep,
    cipher: TokenCipherDep,
    github: GitHubApiDep,
    owner: str = Path(pattern=OWNER_PATTERN),
    repo: str = Path(pattern=REPO_PATTERN),
    body: SdlcStudioQuery | None = None,
) -> Any:
    """Whether the repository has an `sdlc-studio/` folder on the branch (default: its
    default branch); a repository the token cannot see counts as without."""
    query = body or SdlcStudioQuery()
    if repo in (".", ".."):
        raise ValidationFailedError("repo: not a repository name")
    if query.branch is not None and (problem := branch_problem(query.branch)) is not None:
        raise ValidationFailedError(f"branch is not a valid git branch name: {problem}")
    with engine.connect() as conn:
        token = request_token(conn, cipher, query.access_token, query.connection_id)
    found = await has_sdlc_studio(github, token, owner, repo, query.branch)
    return json_response({"has_sdlc_studio": found})
