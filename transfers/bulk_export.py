"""The whole 附票本人確認情報 of the ward for J-LIS (initial load or re-sync), streamed in constant memory.

Content: JSON Lines, one line per current 附票 person (FuhyoEntry in 在籍, ordered by id): the `person` object of the
`jlis_fuhyo` schema v1 (docs/notices.md), built by the same builders as the notices (koseki_fuhyo.payloads.fuhyo_items
→ transfers.payloads.jlis_fuhyo_payload); the first row and every VALIDATE_EVERY-th are checked against the schema.
The rows are read with `.iterator(chunk_size=...)` and written as they come, so memory does not grow with the ward.
Persons under 支援措置 (access_restricted) are included: J-LIS holds every 附票本人確認情報.

Container: the chunked AES-256-GCM stream of operations.stream_crypto, then a signed trailer:

    header fields   purpose "jlis_bulk_export", kind, schema, file_id (UUID), sender (our 地方公共団体コード),
                    receiver "J-LIS", created_at, and the key wrap: kdf "X25519-HKDF-SHA256", epk (a fresh X25519
                    public key), wrap_nonce, wrapped_key = AES-GCM(KEK, random per-file content key,
                    aad = "ward-jlis-bulk-v1" ‖ file_id) with KEK = HKDF-SHA256(X25519(ephemeral, J-LIS box key),
                    salt = epk ‖ J-LIS box key, info = "ward-jlis-bulk-v1 key wrap")
    chunks          the JSON Lines, encrypted with the content key
    trailer         b"WARDSIG1" ‖ canonical JSON {"file_id", "rows", "sha256", "signer", "signature"} ‖ its length
                    (4 bytes, big-endian). sha256 is the SHA-256 of every byte before the trailer (header and
                    chunks); signature = Ed25519 by our signing key over "ward-jlis-bulk-v1\\n" ‖ that digest ‖
                    canonical {"file_id", "rows", "signer"}.

Anyone holding our public key checks the signature and digest without decrypting (`verify_export` without
`receiver`); J-LIS (or a test with J-LIS's test key) also decrypts and counts the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db.models import Prefetch

from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from koseki_fuhyo.payloads import fuhyo_items
from operations.stream_crypto import (
    EncryptingWriter,
    HashingWriter,
    StreamError,
    b64,
    canonical,
    decrypt_chunks,
    read_header,
    unb64,
)

from . import payloads
from .envelope import RAW, Identity, PartnerKeys

PURPOSE = "jlis_bulk_export"
KIND = "jlis_fuhyo_bulk"
SCHEMA = "jlis_fuhyo.v1#/properties/person"
CONTEXT = b"ward-jlis-bulk-v1"
TRAILER_MAGIC = b"WARDSIG1"
MAX_TRAILER = 4096
DEFAULT_ROWS_PER_QUERY = 2_000
VALIDATE_EVERY = 1_000


class ExportInvalid(Exception):
    """An export file that does not verify. Japanese message."""


# --- The rows -----------------------------------------------------------------------------------------------------


def current_entries():
    """Every current 附票 person, with its 戸籍 and its current address, ordered by id."""
    return (
        FuhyoEntry.objects.filter(status=EntryStatus.CURRENT)
        .select_related("koseki")
        .prefetch_related(
            Prefetch("addresses", queryset=FuhyoAddress.objects.filter(is_current=True), to_attr="current_rows")
        )
        .order_by("id")
    )


def person_of(entry: FuhyoEntry, *, validate: bool = True) -> dict[str, Any]:
    """The jlis_fuhyo person of one 附票 row, built (and checked) exactly as a notice's."""
    rows = entry.current_rows  # type: ignore[attr-defined]  # Prefetch(to_attr=) in the query above
    address = rows[0] if rows else None
    entry.current_address = lambda: address  # type: ignore[method-assign]  # the prefetched row, not one query per person
    event = fuhyo_items(entry, "entry", entry.entered_reason, entry.entered_on)
    payload = payloads.jlis_fuhyo_payload(event)
    if validate:
        payloads.validate("jlis_fuhyo", payloads.CURRENT_VERSION["jlis_fuhyo"], payload)
    return payload["person"]


def iter_persons(
    rows_per_query: int = DEFAULT_ROWS_PER_QUERY, validate_every: int = VALIDATE_EVERY
) -> Iterator[dict[str, Any]]:
    """The persons, lazily: a server-side cursor on PostgreSQL, `rows_per_query` rows (and their addresses) at a
    time. The first row and every `validate_every`-th are checked against the schema (jsonschema costs ~2 ms a row:
    every row would triple the run; the builder is the notices' own, which validate every notice)."""
    for index, entry in enumerate(current_entries().iterator(chunk_size=rows_per_query)):
        yield person_of(entry, validate=index % validate_every == 0)


# --- Writing ------------------------------------------------------------------------------------------------------


def _kek(shared: bytes, epk: bytes, receiver_public: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + receiver_public, info=CONTEXT + b" key wrap").derive(
        shared
    )


def _signed_bytes(digest: bytes, file_id: str, rows: int, signer: str) -> bytes:
    return CONTEXT + b"\n" + digest + canonical({"file_id": file_id, "rows": rows, "signer": signer})


@dataclass(frozen=True)
class Written:
    file_id: str
    rows: int
    size: int  # bytes of the whole file
    sha256: str  # of the whole file (the 管理簿's digest)


def write_export(
    out: BinaryIO,
    persons: Iterable[dict[str, Any]],
    me: Identity,
    to: PartnerKeys,
    *,
    chunk_size: int | None = None,
    now: dt.datetime | None = None,
) -> Written:
    """Encrypt the persons for `to`, one JSON line each, as they come; sign; return counts and digests."""
    file_id = str(uuid.uuid4())
    content_key = os.urandom(32)
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(*RAW)
    receiver_public = to.box_public.public_bytes(*RAW)
    wrap_nonce = os.urandom(12)
    kek = _kek(ephemeral.exchange(to.box_public), epk, receiver_public)
    wrapped = AESGCM(kek).encrypt(wrap_nonce, content_key, CONTEXT + file_id.encode())
    fields = {
        "purpose": PURPOSE,
        "kind": KIND,
        "schema": SCHEMA,
        "file_id": file_id,
        "sender": me.code,
        "receiver": to.code,
        "created_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "kdf": "X25519-HKDF-SHA256",
        "epk": b64(epk),
        "wrap_nonce": b64(wrap_nonce),
        "wrapped_key": b64(wrapped),
    }
    whole = HashingWriter(out)  # every byte, trailer included
    body = HashingWriter(whole)  # the signed part: header and chunks
    writer = EncryptingWriter(body, content_key, fields, **({"chunk_size": chunk_size} if chunk_size else {}))
    rows = 0
    for person in persons:
        writer.write(json.dumps(person, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        rows += 1
    writer.close()
    digest = body.sha256.digest()
    trailer = {
        "file_id": file_id,
        "rows": rows,
        "sha256": digest.hex(),
        "signer": me.code,
        "signature": b64(me.sign_key.sign(_signed_bytes(digest, file_id, rows, me.code))),
    }
    text = canonical(trailer)
    whole.write(TRAILER_MAGIC + text + struct.pack(">I", len(text)))
    return Written(file_id=file_id, rows=rows, size=whole.size, sha256=whole.sha256.hexdigest())


def export_to(path: Path, persons: Iterable[dict[str, Any]], me: Identity, to: PartnerKeys, **kw: Any) -> Written:
    """Write atomically: a hidden temporary file (0600) beside `path`, renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            written = write_export(handle, persons, me, to, **kw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


# --- Verifying ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    file_id: str
    rows: int
    sender: str
    receiver: str
    decrypted: bool  # the rows were decrypted and counted (with the receiver's key), not only the signature checked


class _Bounded:
    """Reads at most `limit` bytes of a file, hashing them."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self.source = source
        self.left = limit
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.source.read(n)
        self.left -= len(data)
        self.sha256.update(data)
        return data


def _trailer(source: BinaryIO, size: int) -> tuple[int, dict[str, Any]]:
    if size < 4 + len(TRAILER_MAGIC):
        raise ExportInvalid("ファイルが短すぎます（署名がありません）。")
    source.seek(size - 4)
    (length,) = struct.unpack(">I", source.read(4))
    start = size - 4 - length - len(TRAILER_MAGIC)
    if length > MAX_TRAILER or start < 0:
        raise ExportInvalid("署名部がありません（ファイルが途中で切れているか、形式が違います）。")
    source.seek(start)
    if source.read(len(TRAILER_MAGIC)) != TRAILER_MAGIC:
        raise ExportInvalid("署名部がありません（ファイルが途中で切れているか、形式が違います）。")
    try:
        trailer = json.loads(source.read(length))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportInvalid("署名部を読めません。") from exc
    if not isinstance(trailer, dict) or not isinstance(trailer.get("rows"), int):
        raise ExportInvalid("署名部の形式が違います。")
    return start, trailer


def _content_key(fields: dict[str, Any], receiver: Identity) -> bytes:
    if fields.get("receiver") != receiver.code or fields.get("kdf") != "X25519-HKDF-SHA256":
        raise ExportInvalid("このファイルの宛先ではありません。")
    try:
        epk = unb64(fields.get("epk"), 32)
        shared = receiver.box_key.exchange(X25519PublicKey.from_public_bytes(epk))
        kek = _kek(shared, epk, receiver.box_key.public_key().public_bytes(*RAW))
        return AESGCM(kek).decrypt(
            unb64(fields.get("wrap_nonce"), 12),
            unb64(fields.get("wrapped_key")),
            CONTEXT + str(fields["file_id"]).encode(),
        )
    except (InvalidTag, ValueError, KeyError, StreamError) as exc:
        raise ExportInvalid("内容の鍵を取り出せません（宛先の鍵が違うか、改ざんされています）。") from exc


def verify_export(path: Path, sender: PartnerKeys, receiver: Identity | None = None) -> Verified:
    """Check the trailer's signature by `sender` over the digest of the file; with the `receiver`'s keys, also
    decrypt every chunk and count the rows (each a JSON object) against the signed count."""
    size = path.stat().st_size
    with path.open("rb") as source:
        body_end, trailer = _trailer(source, size)
        source.seek(0)
        body = _Bounded(source, body_end)
        try:
            header_bytes, fields = read_header(body)
            if fields.get("purpose") != PURPOSE or fields.get("sender") != sender.code:
                raise ExportInvalid("J-LIS 一括提供のファイルではないか、送り手が違います。")
            rows = 0
            if receiver is not None:
                key = _content_key(fields, receiver)
                pending = b""
                for chunk in decrypt_chunks(body, key, header_bytes, fields):
                    lines = (pending + chunk).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        try:
                            row = json.loads(line)
                        except (ValueError, UnicodeDecodeError) as exc:
                            raise ExportInvalid(f"{rows + 1} 行目が JSON ではありません。") from exc
                        if not isinstance(row, dict):
                            raise ExportInvalid(f"{rows + 1} 行目の形式が違います。")
                        rows += 1
                if pending:
                    raise ExportInvalid("最後の行が途中で切れています。")
                if body.left:
                    raise StreamError(StreamError.TRAILING_DATA)
            else:
                for _ in iter(lambda: body.read(1 << 20), b""):
                    pass
        except StreamError as exc:
            raise ExportInvalid(exc.message) from exc
    digest = body.sha256.digest()
    if digest.hex() != trailer.get("sha256"):
        raise ExportInvalid("ファイルのハッシュが署名部と一致しません（改ざんまたは破損）。")
    try:
        signature = unb64(trailer.get("signature"), 64)
        sender.sign_public.verify(
            signature, _signed_bytes(digest, str(trailer.get("file_id")), trailer["rows"], sender.code)
        )
    except (InvalidSignature, StreamError) as exc:
        raise ExportInvalid("署名を検証できません。") from exc
    if trailer.get("file_id") != fields.get("file_id"):
        raise ExportInvalid("署名部と見出しのファイルIDが違います。")
    if receiver is not None and rows != trailer["rows"]:
        raise ExportInvalid(f"件数が署名部と一致しません（{rows} 件 / 署名部 {trailer['rows']} 件）。")
    return Verified(
        file_id=fields["file_id"],
        rows=trailer["rows"],
        sender=fields["sender"],
        receiver=fields.get("receiver", ""),
        decrypted=receiver is not None,
    )
