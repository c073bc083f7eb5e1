#!/usr/bin/env bash
# The backup and restore drill: make a small archive in a scratch PostgreSQL database (signed
# and sealed through the app's own services), back it up with deploy/backup.sh, restore it
# with deploy/restore.sh into another fresh database and media folder, and check that
# verify_archive there finds every sealed document intact and that every table holds the
# same rows. Cleans up after itself; exits non-zero on any difference.
#
#   make restore-drill                          (PostgreSQL on 127.0.0.1:5432 as postgres)
#   DRILL_PG=postgres://user@host:5432 DRILL_AGREEMENTS=5 deploy/restore-drill.sh
#
# DRILL_DAMAGED=1 also restores a copy of the backup in which one sealed PDF has one byte
# changed (its sums rewritten, as if the document was damaged before the backup) into a
# third database, and requires restore.sh to fail and name it: the check is not vacuous.
set -euo pipefail

app_dir=$(cd "$(dirname "$0")/.." && pwd)
python=${AVG_PYTHON:-$app_dir/.venv/bin/python}
server=${DRILL_PG:-postgres://postgres@127.0.0.1:5432}
made_agreements=${DRILL_AGREEMENTS:-3}
source_db="avg_drill_source_$$"
restored_db="avg_drill_restored_$$"
damaged_db="avg_drill_damaged_$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/avg-restore-drill.XXXXXX")

psql_on() { psql --no-psqlrc -v ON_ERROR_STOP=1 -qtA --dbname="$server/$1" "${@:2}"; }
cleanup() {
  for db in "$source_db" "$restored_db" "$damaged_db"; do
    psql_on postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

psql_on postgres -c "CREATE DATABASE $source_db" -c "CREATE DATABASE $restored_db"
mkdir "$work/source-media" "$work/restored-media" "$work/damaged-media" "$work/backups"

# Development settings (the self-signed seal in var/dev-seal/, tasks run inline, mail kept
# in memory): the same seal certificate for both sides, as a real restore needs.
write_env() {
  cat >"$2" <<ENV
DJANGO_DEBUG=1
DATABASE_URL=$server/$1
DJANGO_MEDIA_ROOT=$3
DJANGO_TASKS_BACKEND=django.tasks.backends.immediate.ImmediateBackend
DJANGO_CACHE_URL=locmem://
DJANGO_EMAIL_URL=locmem://
DJANGO_LOG_LEVEL=WARNING
ENV
}
write_env "$source_db" "$work/source.env" "$work/source-media"
write_env "$restored_db" "$work/restored.env" "$work/restored-media"
write_env "$damaged_db" "$work/damaged.env" "$work/damaged-media"
unset DATABASE_URL DJANGO_MEDIA_ROOT DJANGO_S3_BUCKET DJANGO_SEAL_CERT_FILE DJANGO_SEAL_KEY_FILE

run_in() { (set -a; . "$1"; set +a; cd "$app_dir" && "$python" manage.py "${@:2}"); }

echo "== 1. A small archive in $source_db"
run_in "$work/source.env" migrate --verbosity 0
made=$(run_in "$work/source.env" make_sample_archive --agreements "$made_agreements" \
  2>"$work/sample.log" | tail -n 1) || { cat "$work/sample.log" >&2; exit 1; }
echo "$made"
sealed=$(sed -n 's/.* \([0-9][0-9]*\) sealed documents$/\1/p' <<<"$made")
[ -n "$sealed" ] || { echo "drill: could not read how many documents were sealed" >&2; exit 1; }

echo "== 2. Backup"
backup=$(AVG_PYTHON="$python" "$app_dir/deploy/backup.sh" "$work/source.env" "$work/backups" | tail -n 1)
cat "$backup/SHA256SUMS"

echo "== 3. Restore into $restored_db and a fresh media folder, and verify"
AVG_PYTHON="$python" "$app_dir/deploy/restore.sh" "$backup" "$work/restored.env" | tee "$work/restore.log"

echo "== 4. Compare"
verified=$(grep -E '^checked [0-9]+ files' "$work/restore.log" || true)
expected="checked $sealed files and $made_agreements evidence chains: $sealed files ok, 0 mismatched, 0 missing, 0 seal invalid, 0 evidence expired, 0 chain broken"
if [ "$verified" != "$expected" ]; then
  echo "drill: FAILED: verify_archive said" >&2
  echo "  $verified" >&2
  echo "expected" >&2
  echo "  $expected" >&2
  exit 1
fi
# Every table has the same number of rows on both sides.
count_rows() {
  psql_on "$1" -c "SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name" |
    while read -r table; do
      echo "$table $(psql_on "$1" -c "SELECT count(*) FROM \"$table\"")"
    done
}
count_rows "$source_db" >"$work/source.rows"
count_rows "$restored_db" >"$work/restored.rows"
if ! diff -u "$work/source.rows" "$work/restored.rows"; then
  echo "drill: FAILED: the restored database differs from the source" >&2
  exit 1
fi
tables=$(wc -l <"$work/source.rows")

if [ "${DRILL_DAMAGED:-0}" = 1 ]; then
  echo "== 5. A backup of a damaged archive must not pass"
  cp -r "$backup" "$work/damaged-backup"
  "$python" - "$work/damaged-backup/documents.tar" <<'PY'
import sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as tar:
    members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]
name = next(m.name for m, _ in members if m.name.endswith(".pdf"))
with tarfile.open(path, "w") as tar:
    for member, data in members:
        if member.name == name:
            data = data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1 :]
        tar.addfile(member, __import__("io").BytesIO(data))
print(f"changed one byte of {name}")
PY
  (cd "$work/damaged-backup" && sha256sum -- database.dump documents.tar README.txt >SHA256SUMS)
  psql_on postgres -c "CREATE DATABASE $damaged_db"
  if AVG_PYTHON="$python" "$app_dir/deploy/restore.sh" "$work/damaged-backup" \
    "$work/damaged.env" >"$work/damaged.log" 2>&1; then
    cat "$work/damaged.log" >&2
    echo "drill: FAILED: the damaged backup restored without complaint" >&2
    exit 1
  fi
  grep -E '^MISMATCHED: |^checked ' "$work/damaged.log"
  grep -q "^checked $sealed files and $made_agreements evidence chains: $((sealed - 1)) files ok, 1 mismatched" \
    "$work/damaged.log" || { cat "$work/damaged.log" >&2; echo "drill: FAILED: damage not reported" >&2; exit 1; }
  echo "drill: the damaged document was caught"
fi
echo "drill: OK: $sealed of $sealed sealed documents verified after the restore, $made_agreements evidence chains intact, $tables tables with the same row counts"
