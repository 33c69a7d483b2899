from .batch import BatchRun, ChainSeal, ErasureRecord
from .flags import AnalysisFlag
from .ledger import HandoverRecord
from .log import GENESIS_HASH, AuditChainHead, AuditLogEntry
from .restrictions import AccessGrant, AccessRestriction

__all__ = [
    "GENESIS_HASH",
    "AccessGrant",
    "AccessRestriction",
    "AnalysisFlag",
    "AuditChainHead",
    "AuditLogEntry",
    "BatchRun",
    "ChainSeal",
    "ErasureRecord",
    "HandoverRecord",
]
