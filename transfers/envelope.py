"""Envelopes: every message signed by its sender (Ed25519) and encrypted for its one receiver (X25519 + AES-256-GCM).

Pure functions over bytes and keys; no database. The wire format is one JSON object:

    {"v": 1, "header": {...}, "epk": b64, "nonce": b64, "ciphertext": b64, "signature": b64}

- `header` (in clear, so a receiver can route and refuse cheaply): message_id, kind, schema_version, sender,
  receiver (地方公共団体コード with its check digit, or J-LIS), created_at (UTC, ISO 8601). Its canonical JSON is
  the AES-GCM associated data, so a header altered in transit fails decryption as well as the signature.
- `epk`: a fresh X25519 public key per message. AES key = HKDF-SHA256(X25519(ephemeral, receiver), salt = epk ‖
  receiver key, info = "ward-envelope-v1"). A new key per message: a leaked message key opens one message only.
- `signature`: Ed25519 by the sender over "ward-envelope-v1\\n" ‖ canonical header ‖ epk ‖ nonce ‖ ciphertext, so the
  receiver knows who sealed exactly these bytes for exactly this receiver before spending work on decryption.

`open_envelope` checks, in this order: size and shape, receiver is us, sender is a known partner, timestamp within
the window, signature, decryption, JSON body. Replays (a message id already stored) are the caller's check, since
they need the database. Each refusal raises `EnvelopeRejected` with a stable `code` and a Japanese message.

The specification, step by step, and why this is not JOSE (JWS+JWE) or HPKE (RFC 9180): docs/envelope.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.checkdigits import is_valid_partner_code  # pure: no Django

VERSION = 1
CONTEXT = b"ward-envelope-v1"
MAX_ENVELOPE_BYTES = 1_000_000  # a notice is a few kilobytes; anything this large is refused unread
ACK_KIND = "ack"
HEADER_FIELDS = ("message_id", "kind", "schema_version", "sender", "receiver", "created_at")
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class EnvelopeRejected(Exception):
    """A message refused. `code` is stable (logged, answered to the sender); `message` is for people."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    WRONG_RECEIVER = "wrong_receiver"
    UNKNOWN_SENDER = "unknown_sender"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
    UNDECRYPTABLE = "undecryptable"
    REPLAY = "replay"
    BAD_PAYLOAD = "bad_payload"

    MESSAGES = {
        MALFORMED: "封筒の形式が正しくありません。",
        TOO_LARGE: "封筒が大きすぎます。",
        WRONG_RECEIVER: "宛先がこの団体ではありません。",
        UNKNOWN_SENDER: "送信元が通信相手として登録されていません。",
        STALE: "作成日時が許容範囲の外です。",
        BAD_SIGNATURE: "署名を検証できません。",
        UNDECRYPTABLE: "復号できません（改ざん、または鍵の不一致）。",
        REPLAY: "この通知IDはすでに受信しています。",
        BAD_PAYLOAD: "内容が様式に合いません。",
    }

    def __init__(self, code: str, detail: str = "", header: Header | None = None) -> None:
        self.code = code
        self.detail = detail
        self.header = header
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def message(self) -> str:
        text = self.MESSAGES.get(self.code, "受信できません。")
        return f"{text}（{self.detail}）" if self.detail else text


@dataclass(frozen=True)
class Header:
    message_id: str
    kind: str
    schema_version: int
    sender: str
    receiver: str
    created_at: str

    def canonical(self) -> bytes:
        return canonical(asdict(self))

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)


@dataclass(frozen=True)
class Identity:
    """Our own keys: what signs what we send and opens what is sent to us."""

    code: str
    sign_key: Ed25519PrivateKey
    box_key: X25519PrivateKey

    @property
    def public(self) -> PartnerKeys:
        return PartnerKeys(self.code, self.sign_key.public_key(), self.box_key.public_key())

    @classmethod
    def generate(cls, code: str) -> Identity:
        return cls(code, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())


@dataclass(frozen=True)
class PartnerKeys:
    """A partner's public keys: one verifies its signatures, the other is what we encrypt for."""

    code: str
    sign_public: Ed25519PublicKey
    box_public: X25519PublicKey

    @classmethod
    def from_b64(cls, code: str, sign_public: str, box_public: str) -> PartnerKeys:
        return cls(
            code,
            Ed25519PublicKey.from_public_bytes(b64decode(sign_public)),
            X25519PublicKey.from_public_bytes(b64decode(box_public)),
        )

    def to_b64(self) -> tuple[str, str]:
        return b64encode(self.sign_public.public_bytes(*RAW)), b64encode(self.box_public.public_bytes(*RAW))


@dataclass(frozen=True)
class Opened:
    header: Header
    body: dict[str, Any]


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def payload_digest(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a payload: what the audit log, the outbox and the inbox keep instead of the
    content (and what a receiver records). The one digest of a payload, on every side."""
    return hashlib.sha256(canonical(payload)).hexdigest()


def message_key(shared: bytes, epk: bytes, receiver_public: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + receiver_public, info=CONTEXT).derive(shared)


def signed_bytes(header: bytes, epk: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return CONTEXT + b"\n" + header + epk + nonce + ciphertext


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_header(kind: str, schema_version: int, sender: str, receiver: str, message_id: str | None = None) -> Header:
    """A header stamped now. A re-sent notice keeps its message id and gets a fresh timestamp."""
    return Header(
        message_id=message_id or str(uuid.uuid4()),
        kind=kind,
        schema_version=schema_version,
        sender=sender,
        receiver=receiver,
        created_at=now_utc().isoformat(timespec="microseconds"),
    )


def seal(header: Header, body: dict[str, Any], me: Identity, to: PartnerKeys) -> bytes:
    """Encrypt `body` for `to` and sign the result with our key. Names are carried as UTF-8, never normalised."""
    if header.sender != me.code or header.receiver != to.code:
        raise ValueError("header sender/receiver do not match the keys")
    header_bytes = header.canonical()
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(*RAW)
    receiver_public = to.box_public.public_bytes(*RAW)
    key = message_key(ephemeral.exchange(to.box_public), epk, receiver_public)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, canonical(body), header_bytes)
    signature = me.sign_key.sign(signed_bytes(header_bytes, epk, nonce, ciphertext))
    envelope = {
        "v": VERSION,
        "header": asdict(header),
        "epk": b64encode(epk),
        "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext),
        "signature": b64encode(signature),
    }
    return canonical(envelope)


def read_header(raw: bytes) -> Header:
    """The header of an envelope, checked for shape only (no signature yet): for routing and for the log."""
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise EnvelopeRejected(EnvelopeRejected.TOO_LARGE, f"{len(raw)} バイト")
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: `[` nested 100,000 deep
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "JSON ではありません") from exc
    if not isinstance(envelope, dict) or envelope.get("v") != VERSION:
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "版が違います")
    fields = envelope.get("header")
    if not isinstance(fields, dict) or set(fields) != set(HEADER_FIELDS):
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "ヘッダの項目が違います")
    text_fields = [name for name in HEADER_FIELDS if name != "schema_version"]
    if not all(isinstance(fields[name], str) and 0 < len(fields[name]) <= 64 for name in text_fields):
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "ヘッダの値が正しくありません")
    if not isinstance(fields["schema_version"], int) or isinstance(fields["schema_version"], bool):
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "様式の版が数ではありません")
    for name, label in (("sender", "送信元"), ("receiver", "宛先")):
        if not is_valid_partner_code(fields[name]):
            raise EnvelopeRejected(
                EnvelopeRejected.MALFORMED,
                f"{label}は検査数字の正しい地方公共団体コード（6桁）または J-LIS でなければなりません",
            )
    header = Header(**fields)
    try:
        uuid.UUID(header.message_id)
        created = header.created
    except ValueError as exc:
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "通知IDまたは作成日時が正しくありません") from exc
    if created.tzinfo is None:
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "作成日時にタイムゾーンがありません")
    return header


def open_envelope(
    raw: bytes,
    me: Identity,
    partner_keys: Callable[[str], PartnerKeys | None],
    *,
    window: dt.timedelta = dt.timedelta(minutes=5),
    now: dt.datetime | None = None,
) -> Opened:
    """Check and open an envelope addressed to us. `partner_keys(code)` answers None for an unknown sender."""
    header = read_header(raw)
    envelope = json.loads(raw)
    if header.receiver != me.code:
        raise EnvelopeRejected(EnvelopeRejected.WRONG_RECEIVER, header.receiver, header)
    partner = partner_keys(header.sender)
    if partner is None:
        raise EnvelopeRejected(EnvelopeRejected.UNKNOWN_SENDER, header.sender, header)
    skew = abs((now or now_utc()) - header.created)
    if skew > window:
        raise EnvelopeRejected(EnvelopeRejected.STALE, f"{int(skew.total_seconds())} 秒のずれ", header)
    try:
        epk = b64decode(envelope["epk"])
        nonce = b64decode(envelope["nonce"])
        ciphertext = b64decode(envelope["ciphertext"])
        signature = b64decode(envelope["signature"])
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "暗号部の形式", header) from exc
    if len(epk) != 32 or len(nonce) != 12 or len(signature) != 64:
        raise EnvelopeRejected(EnvelopeRejected.MALFORMED, "鍵・ナンス・署名の長さ", header)
    header_bytes = header.canonical()
    try:
        partner.sign_public.verify(signature, signed_bytes(header_bytes, epk, nonce, ciphertext))
    except InvalidSignature as exc:
        raise EnvelopeRejected(EnvelopeRejected.BAD_SIGNATURE, header.sender, header) from exc
    try:
        ephemeral_public = X25519PublicKey.from_public_bytes(epk)
        key = message_key(me.box_key.exchange(ephemeral_public), epk, me.box_key.public_key().public_bytes(*RAW))
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, header_bytes)
    except (InvalidTag, ValueError) as exc:
        raise EnvelopeRejected(EnvelopeRejected.UNDECRYPTABLE, "", header) from exc
    try:
        body = json.loads(plaintext)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "JSON ではありません", header) from exc
    if not isinstance(body, dict):
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "オブジェクトではありません", header)
    return Opened(header, body)
