"""A streamed, chunked AES-256-GCM container: files of any size written and read in constant memory.

Used for the backups (operations.backup: the key derived from BACKUP_KEY) and for the J-LIS bulk export
(transfers.bulk_export: a random per-file key, wrapped for J-LIS). Layout:

    MAGIC            8 bytes  b"WARDSTRM"
    header length    2 bytes  big-endian
    header           canonical JSON (UTF-8): {"v": 1, "alg": "AES-256-GCM", "chunk_size": n, "nonce_prefix": b64,
                     ...the caller's fields (key derivation or key wrapping, kind, ids)}
    chunk*           4-byte big-endian length ‖ AES-GCM ciphertext of at most chunk_size bytes (+ 16-byte tag)
    [trailer]        whatever the caller appends after the final chunk (the J-LIS export: its signature)

Chunk i is sealed with the nonce nonce_prefix (7 random bytes) ‖ i (4 bytes, big-endian) ‖ final (1 byte: 1 for
the last chunk, else 0) and the whole header (magic to JSON) as associated data — the STREAM construction. So
every chunk authenticates the header; chunks cannot be reordered, dropped or repeated (the counter); and a file cut
anywhere is detected, because the chunk marked final is missing (a cut at a chunk boundary) or fails its tag. The
last chunk may be empty. A key is never used for more than one file (the backup key is derived per file from a
random salt; the export key is random), so the per-file counter never repeats a nonce.

Errors raise `StreamError` with a stable `code` and a Japanese message; nothing here logs or sees plaintext beyond
the chunk at hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Readable(Protocol):
    """What the readers need of a source: a file, or a wrapper that hashes or bounds one."""

    def read(self, n: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


MAGIC = b"WARDSTRM"
VERSION = 1
ALGORITHM = "AES-256-GCM"
DEFAULT_CHUNK_SIZE = 1 << 16  # 64 KiB of plaintext per chunk
MAX_CHUNK_SIZE = 1 << 24
MAX_HEADER_BYTES = 4096
TAG_BYTES = 16
PREFIX_BYTES = 7
MAX_CHUNKS = 1 << 32  # the counter's room: 256 TiB at 64 KiB chunks


class StreamError(Exception):
    """A container that cannot be read. `code` is stable; `message` is for people."""

    NOT_CONTAINER = "not_container"
    BAD_HEADER = "bad_header"
    WRONG_KEY = "wrong_key"
    TAMPERED = "tampered"
    TRUNCATED = "truncated"
    TRAILING_DATA = "trailing_data"

    MESSAGES = {
        NOT_CONTAINER: "暗号化ファイルの形式ではありません。",
        BAD_HEADER: "暗号化ファイルのヘッダが正しくありません。",
        WRONG_KEY: "鍵が違います（このファイルを暗号化した鍵ではありません）。",
        TAMPERED: "復号できません。ファイルが改ざんまたは破損しています。",
        TRUNCATED: "ファイルが途中で切れています（最後のブロックがありません）。",
        TRAILING_DATA: "最後のブロックの後に余分なデータがあります。",
    }

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def message(self) -> str:
        text = self.MESSAGES.get(self.code, "暗号化ファイルを読めません。")
        return f"{text}（{self.detail}）" if self.detail else text


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, length: int | None = None) -> bytes:
    try:
        data = base64.b64decode(str(text).encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise StreamError(StreamError.BAD_HEADER, "base64") from exc
    if length is not None and len(data) != length:
        raise StreamError(StreamError.BAD_HEADER, "長さ")
    return data


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if index >= MAX_CHUNKS:
        raise StreamError(StreamError.BAD_HEADER, "ブロック数の上限")
    return prefix + struct.pack(">I", index) + (b"\x01" if final else b"\x00")


class HashingWriter:
    """Wraps a binary file: counts and hashes (SHA-256) every byte written through it."""

    def __init__(self, out: Writable) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


class EncryptingWriter:
    """Encrypts what is written to it, chunk by chunk, into `out`; `close()` writes the final chunk (the file
    object itself stays open: the caller may append a trailer). `out` is a HashingWriter, so the size and SHA-256
    of the encrypted bytes are known at the end."""

    def __init__(
        self,
        out: Writable,
        key: bytes,
        fields: dict[str, Any],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError("chunk size out of range")
        self.out = out if isinstance(out, HashingWriter) else HashingWriter(out)
        self._aead = AESGCM(key)
        self._prefix = os.urandom(PREFIX_BYTES)
        self.chunk_size = chunk_size
        header = {
            **fields,
            "v": VERSION,
            "alg": ALGORITHM,
            "chunk_size": chunk_size,
            "nonce_prefix": b64(self._prefix),
        }
        body = canonical(header)
        if len(body) > MAX_HEADER_BYTES:
            raise ValueError("header too large")
        self.header_bytes = MAGIC + struct.pack(">H", len(body)) + body
        self.out.write(self.header_bytes)
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed container")
        self._buffer += data
        self.plaintext_size += len(data)
        while len(self._buffer) > self.chunk_size:  # keep at least one byte back: the final chunk is never empty
            self._emit(bytes(self._buffer[: self.chunk_size]), final=False)
            del self._buffer[: self.chunk_size]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True

    def _emit(self, plaintext: bytes, *, final: bool) -> None:
        ciphertext = self._aead.encrypt(_nonce(self._prefix, self._index, final), plaintext, self.header_bytes)
        self.out.write(struct.pack(">I", len(ciphertext)) + ciphertext)
        self._index += 1

    @property
    def size(self) -> int:
        return self.out.size

    @property
    def sha256(self) -> str:
        return self.out.sha256.hexdigest()


def _read_exact(source: Readable, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        part = source.read(n - len(data))
        if not part:
            break
        data += part
    return bytes(data)


def read_header(source: Readable) -> tuple[bytes, dict[str, Any]]:
    """The header bytes (for the associated data) and its fields, checked for shape."""
    magic = _read_exact(source, len(MAGIC))
    if magic != MAGIC:
        raise StreamError(StreamError.NOT_CONTAINER)
    raw_length = _read_exact(source, 2)
    if len(raw_length) != 2:
        raise StreamError(StreamError.TRUNCATED, "ヘッダ")
    (length,) = struct.unpack(">H", raw_length)
    if length > MAX_HEADER_BYTES:
        raise StreamError(StreamError.BAD_HEADER, "長すぎます")
    body = _read_exact(source, length)
    if len(body) != length:
        raise StreamError(StreamError.TRUNCATED, "ヘッダ")
    try:
        fields = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StreamError(StreamError.BAD_HEADER, "JSON") from exc
    if not isinstance(fields, dict) or fields.get("v") != VERSION or fields.get("alg") != ALGORITHM:
        raise StreamError(StreamError.BAD_HEADER, "版または方式")
    size = fields.get("chunk_size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_CHUNK_SIZE:
        raise StreamError(StreamError.BAD_HEADER, "ブロックの大きさ")
    unb64(fields.get("nonce_prefix"), PREFIX_BYTES)
    return magic + raw_length + body, fields


def decrypt_chunks(source: Readable, key: bytes, header_bytes: bytes, fields: dict[str, Any]) -> Iterator[bytes]:
    """Plaintext chunks of a container whose header was read; stops after the final chunk without reading further
    (check what follows with `expect_end`, or read the trailer)."""
    aead = AESGCM(key)
    prefix = unb64(fields["nonce_prefix"], PREFIX_BYTES)
    limit = fields["chunk_size"] + TAG_BYTES
    index = 0
    while True:
        raw_length = _read_exact(source, 4)
        if len(raw_length) < 4:
            raise StreamError(StreamError.TRUNCATED, f"ブロック {index}")
        (length,) = struct.unpack(">I", raw_length)
        if not TAG_BYTES <= length <= limit:
            raise StreamError(StreamError.TAMPERED, f"ブロック {index} の長さ")
        ciphertext = _read_exact(source, length)
        if len(ciphertext) < length:
            raise StreamError(StreamError.TRUNCATED, f"ブロック {index}")
        for final in (False, True):
            try:
                plaintext = aead.decrypt(_nonce(prefix, index, final), ciphertext, header_bytes)
            except InvalidTag:
                continue
            yield plaintext
            if final:
                return
            break
        else:
            raise StreamError(StreamError.TAMPERED, f"ブロック {index}")
        index += 1


def expect_end(source: Readable) -> None:
    if source.read(1):
        raise StreamError(StreamError.TRAILING_DATA)


def decrypt_stream(source: Readable, key_for: Callable[[dict[str, Any]], bytes]) -> Iterator[bytes]:
    """Read the header, ask `key_for(fields)` for the key (it raises StreamError WRONG_KEY when it can tell), and
    yield the plaintext chunks; the file must end after the final chunk."""
    header_bytes, fields = read_header(source)
    key = key_for(fields)
    yield from decrypt_chunks(source, key, header_bytes, fields)
    expect_end(source)
