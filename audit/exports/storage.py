"""Where export files wait for their one download: a private folder under WARD_VAR_DIR (settings.EXPORT_DIR).

The folder is 0700 and every file 0600 (written by archive.write_encrypted_csv). A file is named by its kind, the
time and a random part (`audit-log-csv-20261125-153000-3f9a1c0e.zip`), never by a person. A download claims the file
by renaming it (atomic: of two simultaneous downloads only one gets it), opens it and unlinks it, so the bytes are
sent from the open handle and nothing stays on disk. Files never downloaded are removed by `purge_old_exports()`."""

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

FILE_NAME = re.compile(r"^[a-z0-9-]+\.zip$")


def export_dir() -> Path:
    """The private export folder, created 0700 when missing (and set to 0700 again if someone widened it)."""
    folder = Path(settings.EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def new_file_name(kind: str, moment: dt.datetime | None = None) -> str:
    local = timezone.localtime(moment or timezone.now())
    return f"{kind.replace('_', '-')}-{local:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.zip"


def path_of(file_name: str) -> Path:
    """The file's path in the export folder; refuses anything but a plain export file name (no path traversal)."""
    if not FILE_NAME.match(file_name or ""):
        raise ValueError("not an export file name")
    return export_dir() / file_name


def is_waiting(file_name: str) -> bool:
    """Whether the file is still there to be downloaded."""
    try:
        return path_of(file_name).is_file()
    except ValueError:
        return False


def claim(file_name: str) -> BinaryIO | None:
    """Take the file for its one download: an open handle on it, already removed from the folder; None when it is
    gone (downloaded before, purged, or being downloaded right now)."""
    try:
        path = path_of(file_name)
    except ValueError:
        return None
    claimed = path.with_name(f"{path.name}.sending-{secrets.token_hex(4)}")
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None
    handle = open(claimed, "rb")  # noqa: SIM115 - handed to the response, which closes it
    os.unlink(claimed)
    return handle


def purge_old_exports(*, now: dt.datetime | None = None, keep_hours: int | None = None) -> int:
    """Remove export files (and leftovers of interrupted writes or downloads) older than `keep_hours`
    (settings.EXPORT_KEEP_HOURS). Returns how many files were removed. Safe to run at any time, any number of
    times; for the nightly batch."""
    hours = settings.EXPORT_KEEP_HOURS if keep_hours is None else keep_hours
    cutoff = (now or timezone.now()).timestamp() - hours * 3600
    removed = 0
    for entry in export_dir().iterdir():
        if entry.is_file() and entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
