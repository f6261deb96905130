#!/usr/bin/env bash
# SDLC Lens entrypoint: migrate the database (alembic upgrade head), then exec Uvicorn.
#
# Arguments (`docker run IMAGE [ARG...]`):
#   none                  migrate, then serve the API (the normal start)
#   options ("-..." )     migrate, then serve, with the options appended to uvicorn's command
#                         line, e.g. `docker run IMAGE --proxy-headers --workers 1`
#   anything else         run that command instead, without migrating:
#                         `docker run --rm -it IMAGE bash`,
#                         `docker run --rm -v sdlc-lens-db:/data/db IMAGE alembic current`
#
# Settings come from the environment, as for the application itself:
#   SDLC_LENS_HOST (default 0.0.0.0), SDLC_LENS_PORT (8000), SDLC_LENS_LOG_LEVEL (info),
#   SDLC_LENS_DATABASE_URL (read by Alembic's env.py and by the app).
# The alembic.ini next to this script is used, so a source checkout works the same way:
#   cd backend && uv run ./docker-entrypoint.sh
set -euo pipefail

log() {
    printf '%(%Y-%m-%dT%H:%M:%S)T docker-entrypoint: %s\n' -1 "$*" >&2
}

# The database URL with any password masked, for log lines.
database_for_log() {
    local url=${SDLC_LENS_DATABASE_URL:-}
    if [[ -z $url ]]; then
        printf '%s' "the default database (~/.local/share/sdlc-lens/sdlc_lens.db)"
        return
    fi
    local credentials='^([^:/]+://[^:/@]*):[^@]*@(.*)$'
    if [[ $url =~ $credentials ]]; then
        url="${BASH_REMATCH[1]}:***@${BASH_REMATCH[2]}"
    fi
    printf '%s' "$url"
}

if [[ $# -gt 0 && $1 != -* ]]; then
    exec "$@"
fi

here=${BASH_SOURCE[0]%/*}
[[ $here == "${BASH_SOURCE[0]}" ]] && here=.

host=${SDLC_LENS_HOST:-0.0.0.0}
port=${SDLC_LENS_PORT:-8000}
level=${SDLC_LENS_LOG_LEVEL:-info}
level=${level//[[:space:]]/}
database=$(database_for_log)

log "applying database migrations (alembic upgrade head) to ${database}"
status=0
alembic -c "${here}/alembic.ini" upgrade head || status=$?
if [[ $status -ne 0 ]]; then
    log "ERROR: database migration failed (exit ${status}) for ${database}; not starting the API"
    exit "$status"
fi
log "database migrations complete; starting Uvicorn on ${host}:${port}"

# exec: Uvicorn replaces this shell, so it receives `docker stop`'s SIGTERM directly and shuts
# down gracefully; --timeout-graceful-shutdown bounds the wait for open connections to finish
# well inside docker stop's default 10 s.
exec uvicorn --factory sdlc_lens.main:create_app \
    --host "$host" \
    --port "$port" \
    --log-level "${level,,}" \
    --timeout-graceful-shutdown 5 \
    "$@"
