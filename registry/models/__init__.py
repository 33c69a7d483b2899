from .change import ResidentChange
from .household import Household
from .resident import Resident

__all__ = ["Household", "Resident", "ResidentChange"]
