from .change import ResidentChange
from .household import Household
from .permissions import ResidentGroupObjectPermission, ResidentUserObjectPermission
from .resident import Resident

__all__ = ["Household", "Resident", "ResidentChange", "ResidentGroupObjectPermission", "ResidentUserObjectPermission"]
