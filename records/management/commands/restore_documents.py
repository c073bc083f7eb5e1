"""Put the files of a tar written by `backup_documents` back into the document storage (a
fresh media folder or bucket), under their own names: the documents half of
deploy/restore.sh. A file already there is left alone when its bytes are the same and is
reported otherwise; nothing stored is ever overwritten. Restore the database first: in a
bucket with Object Lock (DJANGO_S3_OBJECT_LOCK), each restored sealed PDF gets its
compliance retention again, computed from its record as when it was sealed."""

import hashlib
import tarfile
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agreements import archive
from agreements.models import SignableDocument

CHUNK = 64 * 1024


def _sha256(opened: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := opened.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


class Command(BaseCommand):
    help = "Restore the documents of a backup_documents tar file into the document storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tar_file", help="a tar file written by backup_documents")

    def handle(self, *args: Any, **options: Any) -> None:
        restored: list[str] = []
        kept = 0
        conflicts: list[str] = []
        with tarfile.open(options["tar_file"], "r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if not _safe(member.name):
                    raise CommandError(f"Refusing the name {member.name!r} in the tar file.")
                content = tar.extractfile(member)
                if content is None:
                    continue
                with content:
                    if default_storage.exists(member.name):
                        with default_storage.open(member.name, "rb") as present:
                            same = _sha256(present) == _sha256(content)
                        if same:
                            kept += 1
                        else:
                            conflicts.append(member.name)
                        continue
                    stored = default_storage.save(member.name, File(content, name=member.name))
                if stored != member.name:
                    raise CommandError(f"{member.name} was stored as {stored}.")
                restored.append(stored)
        self.stdout.write(
            f"restored {len(restored)} documents, {kept} were already there with the same bytes"
        )
        if settings.S3_OBJECT_LOCK:
            self.stdout.write(f"locked {_lock_again(restored)} sealed documents (compliance)")
        if conflicts:
            for name in conflicts:
                self.stderr.write(f"DIFFERENT: {name} is in storage with other bytes; left alone")
            raise CommandError(f"{len(conflicts)} documents differ from the backup")


def _lock_again(names: list[str]) -> int:
    """The Object Lock retention of each restored sealed PDF, as `archive.store_sealed` set it
    on the day it was sealed; a lock whose day has passed is not set again."""
    locked = 0
    today = timezone.localdate()
    documents = SignableDocument.objects.filter(final_pdf__in=names).exclude(final_sha256="")
    for document in documents.iterator():
        assert document.completed_at is not None
        sealed_on = timezone.localdate(document.completed_at)
        until = archive.lock_until(document, today=sealed_on)
        if until is not None and until > today:
            archive.lock_sealed(document, today=sealed_on)
            locked += 1
    return locked
