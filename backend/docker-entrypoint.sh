#!/usr/bin/env bash
# SDLC Lens entrypoint: check the settings and migrate the database, then exec Uvicorn.
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

# Two Python processes in all: Alembic, then Uvicorn. `alembic upgrade head` checks the
# settings first (migrations/env.py): an invalid one stops it with exit 2 and one line naming
# it, before anything is migrated. It then writes `host port log-level database-url` to fd 3,
# captured here; its own output goes to the log stream (fd 1 to fd 2, which is stdout).
status=0
settings=$(alembic -c "$(dirname "${BASH_SOURCE[0]}")/alembic.ini" -x settings_fd=3 \
    upgrade head 3>&1 1>&2) || status=$?
read -r host port level database <<<"$settings"
if ((status != 0)); then
    # Said why in one line already: 2 with no settings line, invalid settings; 3, the database
    # is newer than this version (a downgrade; EXIT_SCHEMA_TOO_NEW in sdlc_lens/db/schema.py).
    if ! ((status == 2 && ${#settings} == 0 || status == 3)); then
        log ERROR "database migration failed (exit ${status}) for ${database}; not starting the API"
    fi
    exit "$status"
fi
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
