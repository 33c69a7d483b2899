"""Models of the notifications: partners, the outbox, the inbox, and the J-LIS 符号 received."""

from .inbound import InboundNotice
from .outbound import OutboundNotice
from .partner import Partner
from .symbol import IdentifierSymbol

__all__ = ["IdentifierSymbol", "InboundNotice", "OutboundNotice", "Partner"]
