"""Acknowledgements: the receiver's signed answer to every accepted (or already accepted) message.

An acknowledgement is itself an envelope of kind `ack`, sealed by the receiver for the sender, whose body names the
message it answers (`in_reply_to`), the `status` (`accepted`, or `duplicate` for a message already stored: the
sender may mark its notice acknowledged either way) and, from J-LIS only, the 情報提供用個人識別符号 issued for the
person (`symbol`). The sender accepts an ack only from the notice's receiver, for that notice's message id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .envelope import ACK_KIND, EnvelopeRejected, Header, Identity, PartnerKeys, new_header, open_envelope, seal

ACK_VERSION = 1
ACCEPTED = "accepted"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Ack:
    header: Header
    in_reply_to: str
    status: str
    symbol: dict[str, str] | None = None


def make_ack(
    answering: Header, status: str, me: Identity, to: PartnerKeys, symbol: dict[str, str] | None = None
) -> bytes:
    """Seal the acknowledgement of `answering` for its sender."""
    body: dict[str, Any] = {"in_reply_to": answering.message_id, "status": status}
    if symbol:
        body["symbol"] = symbol
    header = new_header(ACK_KIND, ACK_VERSION, me.code, to.code)
    return seal(header, body, me, to)


def read_ack(
    raw: bytes,
    me: Identity,
    receiver: PartnerKeys,
    message_id: str,
    *,
    window: dt.timedelta = dt.timedelta(minutes=5),
) -> Ack:
    """Open and check an acknowledgement of our message `message_id` from `receiver`; raises EnvelopeRejected."""
    opened = open_envelope(raw, me, lambda code: receiver if code == receiver.code else None, window=window)
    body = opened.body
    if opened.header.kind != ACK_KIND:
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "応答ではありません", opened.header)
    if body.get("in_reply_to") != message_id:
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "別の通知への応答です", opened.header)
    if body.get("status") not in (ACCEPTED, DUPLICATE):
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "応答の状態が不明です", opened.header)
    symbol = body.get("symbol")
    if symbol is not None and not (
        isinstance(symbol, dict)
        and isinstance(symbol.get("juminhyo_code"), str)
        and isinstance(symbol.get("symbol"), str)
    ):
        raise EnvelopeRejected(EnvelopeRejected.BAD_PAYLOAD, "符号の形式が正しくありません", opened.header)
    return Ack(opened.header, body["in_reply_to"], body["status"], symbol)
