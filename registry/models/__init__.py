from .change import ResidentChange
from .discrepancy import RegisterDiscrepancy
from .household import Household
from .locks import EditLock, UsedSubmissionToken  # noqa: F401 - the clerk's desk: 排他制御, used submission keys
from .permissions import ResidentGroupObjectPermission, ResidentUserObjectPermission
from .resident import Resident

__all__ = [
    "Household",
    "RegisterDiscrepancy",
    "Resident",
    "ResidentChange",
    "ResidentGroupObjectPermission",
    "ResidentUserObjectPermission",
]
