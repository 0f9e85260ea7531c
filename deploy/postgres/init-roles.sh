#!/usr/bin/env bash
# First start of the compose `postgres` service (docker-entrypoint-initdb.d): the importer
# database with its owner and app roles (deploy/postgres/roles.sql). Not run again on an
# existing volume: to change a password later, run roles.sql with psql (docs/deploy.md).
set -euo pipefail
: "${IMPORTER_DB_OWNER_PASSWORD:?IMPORTER_DB_OWNER_PASSWORD is not set}"
: "${IMPORTER_DB_APP_PASSWORD:?IMPORTER_DB_APP_PASSWORD is not set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$IMPORTER_DB_OWNER_PASSWORD" \
    -v app_password="$IMPORTER_DB_APP_PASSWORD" \
    -f /opt/pacs-media-import/roles.sql
