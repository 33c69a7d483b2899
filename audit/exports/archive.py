"""The encrypted container: one CSV entry inside a WinZip AES-256 ZIP, written row by row.

Memory stays constant whatever the number of rows: rows are pulled one at a time from the iterable and written
through a text wrapper into the ZIP entry's deflating, encrypting stream; nothing collects them. The file's SHA-256
is computed afterwards by reading it back in chunks (the ZIP writer seeks back to fill in the local header, so the
bytes are final only when the archive is closed)."""

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyzipper

CSV_ENCODING = "utf-8-sig"  # UTF-8 with a BOM: Excel reads it as UTF-8; IVS and 𠮷 survive (CP932 would lose them)
LINE_END = "\r\n"  # RFC 4180
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    size: int  # bytes of the ZIP file
    digest: str  # SHA-256 of the ZIP file, hex
    row_count: int  # data rows, without the header


def safe_cell(value: Any) -> Any:
    """A value as written to the CSV: None as empty, a text that a spreadsheet would take for a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def file_digest(path: Path) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file, read in chunks."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def write_encrypted_csv(
    path: Path,
    *,
    entry_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    password: str,
) -> WrittenFile:
    """Write `header` and `rows` as CSV into a new AES-256 ZIP at `path` (created 0600; must not exist yet).

    The file is removed again when anything fails on the way, so a half-written export never stays behind."""
    if len(password) < 20:
        raise ValueError("an export password has at least 20 characters")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    count = 0
    try:
        with (
            os.fdopen(fd, "wb") as fh,
            pyzipper.AESZipFile(fh, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive,
        ):
            archive.setpassword(password.encode("ascii"))
            # force_zip64: the entry's size is unknown when it starts; without it an export over 2 GiB would fail.
            with archive.open(entry_name, "w", force_zip64=True) as entry:
                text = io.TextIOWrapper(entry, encoding=CSV_ENCODING, newline="")
                writer = csv.writer(text, lineterminator=LINE_END)
                writer.writerow(header)
                for row in rows:
                    writer.writerow([safe_cell(value) for value in row])
                    count += 1
                text.flush()
                text.detach()  # the ZIP entry is closed by its own `with`, not by the wrapper
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    size, digest = file_digest(path)
    return WrittenFile(path=path, size=size, digest=digest, row_count=count)
