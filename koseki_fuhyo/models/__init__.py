from .filing import FilingPerson, KosekiFiling
from .fuhyo import FuhyoAddress, FuhyoEntry
from .koseki import Koseki
from .permissions import FuhyoEntryGroupObjectPermission, FuhyoEntryUserObjectPermission

__all__ = [
    "FilingPerson",
    "FuhyoAddress",
    "FuhyoEntry",
    "FuhyoEntryGroupObjectPermission",
    "FuhyoEntryUserObjectPermission",
    "Koseki",
    "KosekiFiling",
]
