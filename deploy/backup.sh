#!/usr/bin/env bash
# Back up AVG Portal: the PostgreSQL database (pg_dump -Fc), every stored document (media
# folder or S3 bucket) and the public seal certificates (today's, earlier ones, the trust
# roots), into one dated folder with SHA-256 sums. The seal KEY and the environment file are
# not included: keep them apart.
#
#   deploy/backup.sh /etc/avg-portal/avg-portal.env [/var/backups/avg-portal]
#
# Run it from the application folder (/opt/avg-portal) as the avg-portal user. Prints the
# folder it wrote as its last line; exits non-zero on any failure.
set -euo pipefail

env_file=${1:?usage: deploy/backup.sh ENV_FILE [BACKUP_ROOT]}
backup_root=${2:-/var/backups/avg-portal}
app_dir=$(cd "$(dirname "$0")/.." && pwd)
python=${AVG_PYTHON:-$app_dir/.venv/bin/python}

set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL in $env_file is not a PostgreSQL database" >&2; exit 2 ;;
esac

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
folder="$backup_root/$stamp"
umask 077
mkdir -p "$backup_root"
mkdir "$folder"
trap 'echo "backup.sh: failed; removing the incomplete $folder" >&2; rm -rf "$folder"' ERR

# One consistent snapshot of the database; custom format, restored with pg_restore.
pg_dump --format=custom --file="$folder/database.dump" --dbname="$DATABASE_URL"

# The documents, after the dump: every file the dump names is already stored (a document is
# recorded only once its file is written and read back), so nothing the dump needs is missing.
(cd "$app_dir" && "$python" manage.py backup_documents "$folder/documents.tar")

# The certificate is public and needed to verify the seals after a restore. The key is not.
if [ -n "${DJANGO_SEAL_CERT_FILE:-}" ]; then
  cp "$DJANGO_SEAL_CERT_FILE" "$folder/seal-cert.pem"
fi
# So are the certificates of earlier seals (after a rollover) and the trust roots: the
# archive keeps seals made with them for years.
copy_certificates() {  # LIST PREFIX: the comma-separated files of LIST as PREFIX-N.pem
  local list=$1 prefix=$2 file n=0
  IFS=',' read -ra files <<<"$list"
  for file in "${files[@]}"; do
    file=$(printf '%s' "$file" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    [ -n "$file" ] || continue
    n=$((n + 1))
    cp "$file" "$folder/$prefix-$n.pem"
  done
}
copy_certificates "${DJANGO_SEAL_PREVIOUS_CERT_FILES:-}" seal-previous-cert
copy_certificates "${DJANGO_SEAL_TRUST_ROOTS:-}" seal-trust-root

{
  echo "AVG Portal backup $stamp"
  echo "git: $(git -C "$app_dir" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "migrations applied: $(psql --no-psqlrc -tA --dbname="$DATABASE_URL" -c 'SELECT count(*) FROM django_migrations')"
  echo "restore with: deploy/restore.sh $folder ENV_FILE (the same release, then migrate)"
} >"$folder/README.txt"

(cd "$folder" && sha256sum -- * >SHA256SUMS)
trap - ERR
echo "backup written: $(du -sh "$folder" | cut -f1) in"
echo "$folder"
