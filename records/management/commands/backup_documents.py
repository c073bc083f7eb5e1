"""Every file in the document storage (the media folder or the S3 bucket), written to one tar
file with the names they have in storage: the documents half of deploy/backup.sh. The
database records each sealed file's SHA-256, so `verify_archive` after a restore shows that
nothing was lost or changed. Kept renders (`renders/`: drafts' PDFs, the processing
record's entries) are a cache and left out: they are laid out again when missing (a draft on
its next download, the record's entries at the next export or by `manage.py
record_entries`)."""

import tarfile
from pathlib import Path
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.core.management.base import BaseCommand, CommandParser

from avg_portal.pdf import RENDERS_FOLDER


def stored_names(storage: Storage, folder: str = "") -> list[str]:
    """Every file name in `storage` under `folder`, sorted."""
    folders, files = storage.listdir(folder)
    names = [f"{folder}{name}" for name in files]
    for sub in folders:
        names.extend(stored_names(storage, f"{folder}{sub}/"))
    return sorted(names)


class Command(BaseCommand):
    help = "Write every stored document (media folder or S3 bucket) to a tar file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tar_file", help="the tar file to write (it must not exist)")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["tar_file"])
        names = [
            name
            for name in stored_names(default_storage)
            if not name.startswith(f"{RENDERS_FOLDER}/")
        ]
        total = 0
        # "x": never overwrite an earlier backup. PDFs are compressed already: no gzip.
        with tarfile.open(target, "x") as tar:
            for name in names:
                info = tarfile.TarInfo(name)
                info.size = default_storage.size(name)
                info.mode = 0o600
                info.mtime = int(default_storage.get_modified_time(name).timestamp())
                with default_storage.open(name, "rb") as stored:
                    tar.addfile(info, stored)
                total += info.size
        self.stdout.write(f"wrote {len(names)} documents ({total} bytes) to {target}")
