"""What every transport adapter offers, and the error it raises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..models import Partner


class TransportError(Exception):
    """A delivery attempt that did not reach the partner, or that the partner refused.

    `message` is short, Japanese, and free of personal data (it is stored as the notice's last error); `status` is
    the HTTP status when there was one. `retryable=False` means that sending the same bytes again cannot help
    (the partner refused the message itself): the notice fails at once and waits for a supervisor's 再送."""

    def __init__(self, message: str, retryable: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class Transport(Protocol):
    def send(self, partner: Partner, message_id: str, envelope: bytes) -> bytes | None:
        """Deliver one sealed envelope. Returns the acknowledgement envelope (HTTP), or None when the
        acknowledgement comes later (spool). Raises TransportError."""
        ...


def transport_for(partner: Partner) -> Transport:
    """The adapter of `partner.transport`."""
    # inside: transfers.transport.http and .spool import TransportError from this module (cycle)
    from .http import HttpTransport
    from .spool import SpoolTransport

    adapters: dict[str, type] = {"http": HttpTransport, "spool": SpoolTransport}
    try:
        return adapters[partner.transport]()
    except KeyError:
        raise TransportError(f"送受信方式が不明です（{partner.transport}）。", retryable=False) from None
