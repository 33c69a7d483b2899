"""The encrypted container and its file: AES-256 ZIP that opens with the right password only, CSV in UTF-8 with a
BOM that keeps IVS, rows written as they come (never collected), 0600 files in a 0700 folder, one download, purge."""

import csv
import datetime as dt
import io
import os
import shutil
import stat
import subprocess
import zipfile

import pytest
import pyzipper
from django.utils import timezone

from audit.exports import archive, password, storage

KATSURAGI_IVS = "葛\U000e0100"  # 葛 with an ideographic variation selector
YOSHIDA = "\U00020bb7田"  # 𠮷田 (outside the BMP)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def _write(tmp_path, rows, pw=None, name="t.zip"):
    pw = pw or password.generate_password()
    written = archive.write_encrypted_csv(
        tmp_path / name, entry_name="t.csv", header=("氏名", "カナ"), rows=rows, password=pw
    )
    return written, pw


def _read(path, pw: str) -> bytes:
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(pw.encode())
        return zf.read(zf.namelist()[0])


# --- Password -----------------------------------------------------------------------------------------------------


def test_password_is_long_random_and_unambiguous():
    seen = {password.generate_password() for _ in range(200)}
    assert len(seen) == 200
    for pw in seen:
        assert len(pw) >= 20
        assert set(pw) <= set(password.ALPHABET)
    assert not set("0Oo1lIi2Zz5Ss8B") & set(password.ALPHABET)
    assert password.grouped("ABCDEFGH") == "ABCD EFGH"
    with pytest.raises(ValueError, match="at least 20"):
        password.generate_password(12)


# --- Encryption -----------------------------------------------------------------------------------------------------


def test_opens_with_the_password_only(tmp_path):
    written, pw = _write(tmp_path, [(KATSURAGI_IVS + "城", "カツラギ")])
    assert _read(written.path, pw).startswith("\ufeff氏名".encode())
    with pyzipper.AESZipFile(written.path) as zf:
        info = zf.infolist()[0]
        assert info.flag_bits & 0x1  # encrypted
        with pytest.raises(RuntimeError, match="requires a password"):
            zf.read(info.filename)
        zf.setpassword(b"wrong-password-wrong-password")
        with pytest.raises(RuntimeError, match="Bad password"):
            zf.read(info.filename)
    with zipfile.ZipFile(written.path) as plain, pytest.raises(RuntimeError):  # the standard library: no AES
        plain.read(info.filename)
    assert KATSURAGI_IVS.encode() not in written.path.read_bytes()  # nothing readable in the container


def test_the_wrong_password_fails_for_any_near_miss(tmp_path):
    written, pw = _write(tmp_path, [("山田", "ヤマダ")])
    for near in (pw[:-1], pw + "A", pw.lower(), " ".join([pw])):
        if near == pw:
            continue
        with pyzipper.AESZipFile(written.path) as zf:
            zf.setpassword(near.encode())
            with pytest.raises(RuntimeError, match="Bad password"):
                zf.read("t.csv")


SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z") or shutil.which("7za")


@pytest.mark.skipif(SEVEN_ZIP is None, reason="7-Zip is not installed (apt-get install 7zip)")
def test_seven_zip_reads_it_as_aes256_with_the_password_only(tmp_path):
    written, pw = _write(tmp_path, [(YOSHIDA, "ヨシダ")])
    listing = subprocess.run(  # noqa: S603 - 7-Zip found on PATH, our own file
        [SEVEN_ZIP, "l", "-slt", str(written.path)], capture_output=True, text=True, timeout=60
    )
    assert "Method = AES-256 Deflate" in listing.stdout
    ok = subprocess.run(  # noqa: S603
        [SEVEN_ZIP, "x", "-so", f"-p{pw}", str(written.path)], capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert ok.returncode == 0
    assert YOSHIDA.encode() in ok.stdout
    wrong = subprocess.run(  # noqa: S603
        [SEVEN_ZIP, "x", "-so", "-pnot-the-password-at-all", str(written.path)],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert wrong.returncode != 0
    assert YOSHIDA.encode() not in wrong.stdout


# --- CSV --------------------------------------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_crlf_and_keeps_ivs_and_supplementary_characters(tmp_path):
    rows = [(KATSURAGI_IVS + "城", "カツラギ"), (YOSHIDA, "ヨシダ"), ("髙橋, 一", 'ダブル"クオート')]
    written, pw = _write(tmp_path, rows)
    data = _read(written.path, pw)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert parsed == [["氏名", "カナ"], *[list(r) for r in rows]]
    assert written.row_count == 3


def test_formula_like_cells_are_quoted_and_none_is_empty(tmp_path):
    written, pw = _write(tmp_path, [("=HYPERLINK(1)", None), ("-1", "@x")])
    parsed = list(csv.reader(io.StringIO(_read(written.path, pw).decode("utf-8-sig"), newline="")))
    assert parsed[1:] == [["'=HYPERLINK(1)", ""], ["'-1", "'@x"]]


def test_size_and_digest_are_those_of_the_file(tmp_path):
    import hashlib

    written, _ = _write(tmp_path, [("山田", "ヤマダ")] * 50)
    content = written.path.read_bytes()
    assert written.size == len(content)
    assert written.digest == hashlib.sha256(content).hexdigest()


# --- Streaming ------------------------------------------------------------------------------------------------------


class _Row:
    """A row that counts when the writer reads it."""

    def __init__(self, counter: list[int], i: int) -> None:
        self.counter, self.i = counter, i

    def __iter__(self):
        self.counter[0] += 1
        return iter((f"名{self.i}", "カナ"))


def test_rows_are_pulled_one_at_a_time_and_written_before_the_next(tmp_path):
    """The writer never collects the rows: when row i is pulled, every earlier row has been written already. A
    list() of this generator would fail at once."""
    written_rows = [0]
    total = 5_000

    def rows():
        for i in range(total):
            assert written_rows[0] == i, f"row {i} pulled while {written_rows[0]} were written: rows were collected"
            yield _Row(written_rows, i)

    written, pw = _write(tmp_path, rows())
    assert written.row_count == total
    assert _read(written.path, pw).decode("utf-8-sig").count("\r\n") == total + 1


def test_a_failure_midway_leaves_no_file(tmp_path):
    def rows():
        yield ("山田", "ヤマダ")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="went away"):
        _write(tmp_path, rows())
    assert not (tmp_path / "t.zip").exists()


# --- Storage --------------------------------------------------------------------------------------------------------


def test_folder_0700_file_0600_and_names_without_persons(export_dir):
    name = storage.new_file_name("records_csv", dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC))
    assert name.startswith("records-csv-20261125-153000-")
    assert name.endswith(".zip")
    written = archive.write_encrypted_csv(
        storage.path_of(name), entry_name="x.csv", header=("a",), rows=[("b",)], password=password.generate_password()
    )
    assert stat.S_IMODE(os.stat(export_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(written.path).st_mode) == 0o600
    for bad in ("../etc/passwd", "a/b.zip", "x.ZIP", ""):
        with pytest.raises(ValueError, match="not an export file name"):
            storage.path_of(bad)


def test_claim_hands_the_file_out_once_and_removes_it(export_dir):
    name = storage.new_file_name("audit_log_csv")
    storage.path_of(name).write_bytes(b"zip bytes")
    assert storage.is_waiting(name)
    handle = storage.claim(name)
    assert handle.read() == b"zip bytes"
    handle.close()
    assert not storage.is_waiting(name)
    assert list(export_dir.iterdir()) == []
    assert storage.claim(name) is None
    assert storage.claim("../../etc/passwd") is None


def test_purge_removes_only_files_older_than_the_keep_period(export_dir):
    now = timezone.now()
    old = storage.path_of("audit-log-csv-20261124-010000-00000000.zip")
    fresh = storage.path_of("audit-log-csv-20261125-010000-11111111.zip")
    leftover = export_dir / "records-csv-20261120-010000-22222222.zip.sending-abcd0123"
    for path in (old, fresh, leftover):
        path.write_bytes(b"x")
    two_days_ago = (now - dt.timedelta(hours=48)).timestamp()
    os.utime(fresh, (now.timestamp(), now.timestamp()))  # the file system's clock is not the test's
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(leftover, (two_days_ago, two_days_ago))
    (export_dir / "subfolder").mkdir()
    assert storage.purge_old_exports(now=now, keep_hours=24) == 2
    assert sorted(p.name for p in export_dir.iterdir()) == [fresh.name, "subfolder"]
    assert storage.purge_old_exports(now=now, keep_hours=24) == 0  # safe to re-run
    assert storage.purge_old_exports(now=now + dt.timedelta(hours=25)) == 1  # settings.EXPORT_KEEP_HOURS (24)
