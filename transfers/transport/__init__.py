"""Transport adapters: how an envelope reaches a partner. One adapter per `Partner.transport`.

- `http`: POST to the partner's receiving endpoint; the answer is the signed acknowledgement (200, or 409 for a
  message already stored).
- `spool`: a file in the partner's spool directory (the shape of a CS integration); the acknowledgement comes back
  later as a file, collected by `transfers.delivery.collect_spool_acks`.
"""

from .base import Transport, TransportError, transport_for

__all__ = ["Transport", "TransportError", "transport_for"]
