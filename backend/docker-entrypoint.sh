#!/usr/bin/env bash
# SDLC Lens entrypoint: check the settings, migrate the database, then exec Uvicorn.
#
#   docker run IMAGE                  migrate (alembic upgrade head), then serve the API
#   docker run IMAGE --opt ...        the same, with the options appended to uvicorn's
#   docker run IMAGE command ...      run that command instead, without migrating
#                                     (`bash`, `alembic current`)
#
# Settings are the SDLC_LENS_* variables; their defaults live in sdlc_lens/config.py only.
# From a source checkout (repository root): uv run --directory backend ./docker-entrypoint.sh
set -euo pipefail

if [[ $# -gt 0 && $1 != -* ]]; then
    exec "$@"
fi
exec 2>&1  # one stream: everything below, Python's output included, goes to stdout

log() {
    printf '%(%Y-%m-%dT%H:%M:%S)T %s [docker-entrypoint] %s\n' -1 "$1" "$2"
}

# An invalid setting stops here: exit 2, one line naming it, nothing migrated.
settings=$(python -m sdlc_lens.preflight)
read -r host port level database <<<"$settings"

log INFO "applying database migrations (alembic upgrade head) to ${database}"
alembic -c "$(dirname "${BASH_SOURCE[0]}")/alembic.ini" upgrade head || {
    status=$?
    # 3: the database is newer than this version (a downgrade), and the migrations said so in
    # one line (EXIT_SCHEMA_TOO_NEW in sdlc_lens/db/schema.py).
    if ((status != 3)); then
        log ERROR "database migration failed (exit ${status}) for ${database}; not starting the API"
    fi
    exit "$status"
}
log INFO "database migrations complete; starting Uvicorn on ${host}:${port}"

# Python's small-object allocator keeps each 1 MiB arena while one object in it lives, so a
# large sync left the server half again as big; with the C allocator, the memory the sync
# freed goes back to the system after it (RSS after a 50,000-document sync: 1.1x before).
export PYTHONMALLOC="${PYTHONMALLOC:-malloc}"

# exec: Uvicorn becomes PID 1 and gets `docker stop`'s SIGTERM itself; open connections get
# at most 5 s to finish, well inside docker stop's default 10 s.
# --http: Uvicorn's protocol with deadlines for slow clients and a connection cap
# (sdlc_lens/http_server.py).
exec uvicorn --factory sdlc_lens.main:create_app --host "$host" --port "$port" \
    --log-level "$level" --timeout-graceful-shutdown 5 \
    --http sdlc_lens.http_server:GuardedHttpToolsProtocol "$@"
