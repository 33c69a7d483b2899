"""A simulated J-LIS (附票都道府県サーバ/附票全国サーバ behind the CS) for `make run` and the end-to-end test.

It receives 附票本人確認情報 (`jlis_fuhyo` notices: each 附票 change) over HTTP exactly as an instance of this
system receives a notice (README「通知の送受信」): the sender POSTs an envelope (transfers.envelope); the simulator
accepts only the partners whose exported public key documents it was given, opens and checks the envelope, validates
the payload against its schema (transfers.payloads), records it and answers with a signed acknowledgement
(transfers.acks). For a 住民票コード it has not seen before it issues a 情報提供用個人識別符号 (random, then stable for
that person) and returns it in the acknowledgement's `symbol`; a notice it already holds is answered 409 with a
`duplicate` acknowledgement carrying the same symbol, so that a sender whose first answer was lost still completes.
Refusals are 4xx with {"error": code, "message": japanese}, as the ward answers them.

State lives in its own SQLite file (never the ward's database): the notices received, the symbols issued and one
row per refusal. Its keys are generated on first start into the key directory, which also receives the public key
document (`public.json`, code "J-LIS") that the wards import with `register_partner`.

No Django database is used; the only Django dependency is the payload schemas (transfers.payloads reads
settings.BASE_DIR), loaded lazily. Logs carry message ids, sender codes and outcomes, never personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from transfers.acks import ACCEPTED, DUPLICATE, make_ack
from transfers.envelope import (
    MAX_ENVELOPE_BYTES,
    EnvelopeRejected,
    Identity,
    PartnerKeys,
    open_envelope,
    payload_digest,
)

log = logging.getLogger(__name__)

JLIS_CODE = "J-LIS"  # transfers.routing.JLIS (not imported: routing needs the Django apps)
JLIS_NAME = "地方公共団体情報システム機構（模擬）"
ACCEPTED_KIND = "jlis_fuhyo"
SIGN_FILE, BOX_FILE, PUBLIC_FILE = "sign.pem", "box.pem", "public.json"

HTTP_STATUS = {
    EnvelopeRejected.MALFORMED: 400,
    EnvelopeRejected.BAD_PAYLOAD: 400,
    EnvelopeRejected.STALE: 400,
    EnvelopeRejected.UNKNOWN_SENDER: 403,
    EnvelopeRejected.BAD_SIGNATURE: 403,
    EnvelopeRejected.WRONG_RECEIVER: 403,
    EnvelopeRejected.UNDECRYPTABLE: 403,
    EnvelopeRejected.TOO_LARGE: 413,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    message_id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    record_kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_on TEXT NOT NULL,
    juminhyo_code TEXT,
    payload TEXT NOT NULL,
    payload_digest TEXT NOT NULL,
    symbol_issued TEXT,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS symbols (
    juminhyo_code TEXT PRIMARY KEY,
    symbol TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    message_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    sender TEXT,
    message_id TEXT,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_or_create_identity(key_dir: Path) -> Identity:
    """J-LIS's keys from `key_dir`, generated there on first use; `public.json` is (re)written beside them."""
    key_dir.mkdir(parents=True, exist_ok=True)
    sign_path, box_path = key_dir / SIGN_FILE, key_dir / BOX_FILE
    if sign_path.exists() and box_path.exists():
        sign_key = serialization.load_pem_private_key(sign_path.read_bytes(), password=None)
        box_key = serialization.load_pem_private_key(box_path.read_bytes(), password=None)
        if not isinstance(sign_key, Ed25519PrivateKey) or not isinstance(box_key, X25519PrivateKey):
            raise ValueError(f"鍵の種類が違います: {key_dir}")
        identity = Identity(JLIS_CODE, sign_key, box_key)
    else:
        identity = Identity.generate(JLIS_CODE)
        for path, key in ((sign_path, identity.sign_key), (box_path, identity.box_key)):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(_pem(key))
            tmp.chmod(0o600)
            tmp.replace(path)
    sign_public, box_public = identity.public.to_b64()
    document = {"code": JLIS_CODE, "name": JLIS_NAME, "sign_public": sign_public, "box_public": box_public}
    (key_dir / PUBLIC_FILE).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return identity


def read_partners(path: Path) -> dict[str, PartnerKeys]:
    """The senders J-LIS accepts: a directory of exported public key documents (*.json), or one JSON file holding
    a document or a list of them. Unreadable documents are skipped (and logged by file name)."""
    documents: list[Any] = []
    files = sorted(path.glob("*.json")) if path.is_dir() else ([path] if path.is_file() else [])
    for file in files:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("jlis: unreadable partner file %s", file.name)
            continue
        documents.extend(loaded if isinstance(loaded, list) else [loaded])
    partners: dict[str, PartnerKeys] = {}
    for document in documents:
        try:
            keys = PartnerKeys.from_b64(document["code"], document["sign_public"], document["box_public"])
        except (KeyError, TypeError, ValueError):
            log.warning("jlis: a partner document without valid keys was skipped")
            continue
        if keys.code != JLIS_CODE:
            partners[keys.code] = keys
    return partners


def _validate(kind: str, version: int, payload: dict[str, Any]) -> list[str]:
    """Problems of the payload against its schema (empty when it matches)."""
    from transfers.payloads import PayloadError, validate  # needs Django settings (BASE_DIR) only

    try:
        validate(kind, version, payload)
    except PayloadError as exc:
        return exc.messages
    return []


def new_symbol() -> str:
    """A 情報提供用個人識別符号 stand-in: opaque, random, never derived from the person's data."""
    return secrets.token_hex(16).upper()


class JlisSimulator:
    """What J-LIS does with a notice, independent of HTTP: `receive(raw) -> Reply`."""

    def __init__(
        self, *, key_dir: Path, state: Path, partners: Path, clock_window: dt.timedelta = dt.timedelta(minutes=5)
    ) -> None:
        self.identity = load_or_create_identity(key_dir)
        self.state = state
        self.partners_path = partners
        self.clock_window = clock_window
        self._lock = threading.Lock()
        state.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.state, timeout=20, isolation_level=None)  # autocommit; BEGIN where it matters
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def partners(self) -> dict[str, PartnerKeys]:
        # Read on every message: a ward registered after the start is accepted without a restart.
        return read_partners(self.partners_path)

    # --- Receiving ----------------------------------------------------------------------------------------------

    def receive(self, raw: bytes) -> Reply:
        partners = self.partners()
        try:
            opened = open_envelope(raw, self.identity, partners.get, window=self.clock_window)
            header, body = opened.header, opened.body
            if header.kind != ACCEPTED_KIND:
                detail = f"J-LIS は「{header.kind}」を受け付けません"
                raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, detail, header)
            problems = _validate(header.kind, header.schema_version, body)
            if problems:
                raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, " / ".join(problems[:3]), header)
        except EnvelopeRejected as exc:
            return self._reject(exc)
        status, symbol = self._store(header, body)
        sender = partners[header.sender]
        symbol_item = {"juminhyo_code": body["person"]["juminhyo_code"], "symbol": symbol} if symbol else None
        ack = make_ack(header, status, self.identity, sender, symbol=symbol_item)
        if status == DUPLICATE:
            self._log_rejection(EnvelopeRejected.REPLAY, header.sender, header.message_id)
            log.info("jlis: duplicate %s from %s", header.message_id, header.sender)
            return Reply(HTTPStatus.CONFLICT, ack)
        log.info("jlis: accepted %s from %s (symbol issued: %s)", header.message_id, header.sender, bool(symbol))
        return Reply(HTTPStatus.OK, ack)

    def _store(self, header, body: dict[str, Any]) -> tuple[str, str | None]:
        """(status, symbol to return). One transaction: a notice is stored once; a symbol is issued once per person."""
        code = body["person"].get("juminhyo_code")
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT symbol_issued FROM received WHERE message_id = ?", (header.message_id,)
                ).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    return DUPLICATE, row[0]
                issued = None
                if code and db.execute("SELECT 1 FROM symbols WHERE juminhyo_code = ?", (code,)).fetchone() is None:
                    issued = new_symbol()
                    db.execute(
                        "INSERT INTO symbols (juminhyo_code, symbol, issued_at, message_id) VALUES (?, ?, ?, ?)",
                        (code, issued, _now(), header.message_id),
                    )
                db.execute(
                    "INSERT INTO received (message_id, sender, schema_version, record_kind, reason, recorded_on,"
                    " juminhyo_code, payload, payload_digest, symbol_issued, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        header.message_id,
                        header.sender,
                        header.schema_version,
                        body["record_kind"],
                        body["reason"],
                        body["recorded_on"],
                        code,
                        json.dumps(body, ensure_ascii=False),
                        payload_digest(body),
                        issued,
                        _now(),
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return ACCEPTED, issued

    def _reject(self, exc: EnvelopeRejected) -> Reply:
        sender = exc.header.sender if exc.header else None
        message_id = exc.header.message_id if exc.header else None
        self._log_rejection(exc.code, sender, message_id)
        log.warning("jlis: rejected %s from %s: %s", message_id or "-", sender or "-", exc.code)
        return error_reply(HTTP_STATUS.get(exc.code, 400), exc.code, exc.message)

    def _log_rejection(self, code: str, sender: str | None, message_id: str | None) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO rejections (code, sender, message_id, at) VALUES (?, ?, ?, ?)",
                (code, sender, message_id, _now()),
            )

    # --- Reading the state (tests, the demo) ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
                for table in ("received", "symbols", "rejections")
            }


def error_reply(status: int, code: str, message: str) -> Reply:
    return Reply(status, json.dumps({"error": code, "message": message}, ensure_ascii=False).encode("utf-8"))


def read_state(state: Path) -> dict[str, list[dict[str, Any]]]:
    """Everything the simulator recorded, for tests and the demo (dummy data only)."""
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=20)
    db.row_factory = sqlite3.Row
    try:
        return {
            table: [dict(row) for row in db.execute(f"SELECT * FROM {table}")]  # noqa: S608 - fixed names
            for table in ("received", "symbols", "rejections")
        }
    finally:
        db.close()


# --- HTTP -----------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: JlisHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "JLIS-Simulator/1"

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._send(error_reply(411, EnvelopeRejected.MALFORMED, "Content-Length が必要です。"))
            return
        if int(length) > MAX_ENVELOPE_BYTES:
            self.close_connection = True  # the body is not read
            self._send(self.server.simulator._reject(EnvelopeRejected(EnvelopeRejected.TOO_LARGE, f"{length} バイト")))
            return
        raw = self.rfile.read(int(length))
        try:
            reply = self.server.simulator.receive(raw)
        except Exception:  # a bug must answer 500, not hang the sender
            log.exception("jlis: internal error")
            reply = error_reply(500, "internal", "内部エラー")
        self._send(reply)

    def _not_allowed(self) -> None:
        reply = error_reply(405, "method_not_allowed", "POST だけを受け付けます。")
        self.send_response(reply.status)
        self.send_header("Allow", "POST")
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.info("jlis http: %s", format % args)  # request line and status only: no bodies


class JlisHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: JlisSimulator) -> None:
        self.simulator = simulator
        super().__init__(address, _Handler)


def serve(simulator: JlisSimulator, host: str, port: int) -> JlisHTTPServer:
    """A bound server (call serve_forever(); port 0 picks a free one: server.server_address[1])."""
    return JlisHTTPServer((host, port), simulator)
