from .filing import FilingPerson, KosekiFiling
from .fuhyo import FuhyoAddress, FuhyoEntry
from .koseki import Koseki

__all__ = ["FilingPerson", "FuhyoAddress", "FuhyoEntry", "Koseki", "KosekiFiling"]
