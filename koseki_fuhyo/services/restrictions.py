"""The 閲覧制限 flag on 附票 rows (`FuhyoEntry.access_restricted`), written only here. audit.restrictions decides
which rows are one restricted person's and when the flag is set or cleared; this service writes the rows."""

from collections.abc import Iterable

from koseki_fuhyo.models import FuhyoEntry


def set_entries_restricted(entries: Iterable[FuhyoEntry], value: bool) -> None:
    """Set (or clear) the flag on each row that does not have it yet."""
    for entry in entries:
        if entry.access_restricted != value:
            entry.access_restricted = value
            entry.save(update_fields=["access_restricted", "updated_at"])
