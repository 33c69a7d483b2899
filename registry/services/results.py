import uuid
from dataclasses import dataclass, field

from common.models import ChangeEvent

from ..models import Household, Resident, ResidentChange


@dataclass
class ChangeResult:
    """What a service did: the persons and 世帯 it touched, the history rows and the change events it wrote."""

    change_group: uuid.UUID
    residents: list[Resident] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    changes: list[ResidentChange] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
