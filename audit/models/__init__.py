from .log import GENESIS_HASH, AuditChainHead, AuditLogEntry
from .restrictions import AccessGrant, AccessRestriction

__all__ = ["GENESIS_HASH", "AccessGrant", "AccessRestriction", "AuditChainHead", "AuditLogEntry"]
