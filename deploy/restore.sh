#!/usr/bin/env bash
# Restore an AVG Portal backup (written by deploy/backup.sh) into an EMPTY PostgreSQL
# database and an empty media folder or bucket, then check the whole archive with
# `manage.py verify_archive`: every sealed document against its SHA-256 and its seal, every
# evidence chain. Exits non-zero unless everything verifies.
#
#   deploy/restore.sh /var/backups/avg-portal/2026-11-29T020000Z /etc/avg-portal/restore.env
#
# The environment file names where to restore to (DATABASE_URL, DJANGO_MEDIA_ROOT or
# DJANGO_S3_*) and the seal certificate to verify with (DJANGO_SEAL_CERT_FILE/_KEY_FILE).
# Stop the web and worker services first when restoring over production.
set -euo pipefail

folder=${1:?usage: deploy/restore.sh BACKUP_FOLDER ENV_FILE}
env_file=${2:?usage: deploy/restore.sh BACKUP_FOLDER ENV_FILE}
app_dir=$(cd "$(dirname "$0")/.." && pwd)
python=${AVG_PYTHON:-$app_dir/.venv/bin/python}
folder=$(cd "$folder" && pwd)

set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "restore.sh: DATABASE_URL in $env_file is not a PostgreSQL database" >&2; exit 2 ;;
esac

echo "== Checking the backup's SHA-256 sums"
(cd "$folder" && sha256sum --check --strict --quiet SHA256SUMS)

tables=$(psql --no-psqlrc -tA --dbname="$DATABASE_URL" \
  -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != 0 ]; then
  echo "restore.sh: the target database already has $tables tables; restore into an empty one" >&2
  exit 2
fi

echo "== Restoring the database"
# The dump's owner and grants belong to the old server; the target's user owns everything.
pg_restore --no-owner --no-acl --exit-on-error --single-transaction \
  --dbname="$DATABASE_URL" "$folder/database.dump"

echo "== Restoring the documents"
(cd "$app_dir" && "$python" manage.py restore_documents "$folder/documents.tar")

echo "== Verifying the archive"
(cd "$app_dir" && "$python" manage.py verify_archive)
echo "restore.sh: every stored document, seal and evidence chain verified"
