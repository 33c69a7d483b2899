"""The 閲覧制限 flag on 住民票 rows (`Resident.access_restricted`), written only here. audit.restrictions decides
which rows are one restricted person's and when the flag is set or cleared; this service writes the rows."""

from collections.abc import Iterable

from registry.guards import statutory_correction
from registry.models import Resident


def set_residents_restricted(residents: Iterable[Resident], value: bool) -> None:
    """Set (or clear) the flag on each row that does not have it yet, 除票 included."""
    # The flag is not a register item: setting it on a 除票 is allowed (the 除票 must be protected too).
    with statutory_correction("access_restriction"):
        for resident in residents:
            if resident.access_restricted != value:
                resident.access_restricted = value
                resident.save(update_fields=["access_restricted", "updated_at"])
