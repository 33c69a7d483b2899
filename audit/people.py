"""The persons an audit entry names, by name — through the one visibility rule (audit.visibility): a person
restricted for the reader is 「閲覧制限のある方」, never a name.

An entry's subject ids point to 住民票 or 附票 rows depending on its subject kind (the rule of
`selectors.person_q`); 附票 rows may also be listed in its conditions under `fuhyo_entry_ids`. The screens load
every id of a page at once (two queries per table) and print each as 「氏名（住民票 #id）」.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from koseki_fuhyo.models import FuhyoEntry
from registry.models import Resident

from .selectors import (
    ADMIN_FUHYO_KIND,
    ADMIN_KIND_PREFIX,
    ADMIN_RESIDENT_KIND,
    FUHYO_KIND_RE,
    NON_PERSON_KINDS,
    PERSON_CATEGORIES,
)
from .visibility import RESTRICTED_LABEL

RESIDENT = "resident"
FUHYO = "fuhyo"
RECORD_LABELS = {RESIDENT: "住民票", FUHYO: "附票"}
MODELS = {RESIDENT: Resident, FUHYO: FuhyoEntry}
SHOWN_PER_ENTRY = 5
# Subject kinds whose ids are not persons' records, besides those selectors.NON_PERSON_KINDS already names: a name
# looked up by such an id would be a stranger's.
OTHER_KINDS = ("staff_account", "partner", "erasure")

Ref = tuple[str, int]


def subject_table(category: str, subject_kind: str) -> str | None:
    """Which table an entry's subject ids point to (RESIDENT or FUHYO), or None when they are not persons."""
    if category not in PERSON_CATEGORIES or subject_kind in NON_PERSON_KINDS or subject_kind in OTHER_KINDS:
        return None
    if subject_kind.startswith(ADMIN_KIND_PREFIX):
        return {ADMIN_RESIDENT_KIND: RESIDENT, ADMIN_FUHYO_KIND: FUHYO}.get(subject_kind)
    return FUHYO if re.search(FUHYO_KIND_RE, subject_kind) else RESIDENT


def refs_of(category: str, subject_kind: str, subject_ids: Iterable[Any], conditions: dict | None) -> list[Ref]:
    """The person records an entry names: its subject ids (when they are persons) and `fuhyo_entry_ids`."""
    refs: list[Ref] = []
    table = subject_table(category, subject_kind)
    if table is not None:
        refs += [(table, int(i)) for i in subject_ids or [] if isinstance(i, int) or str(i).isdigit()]
    if category in PERSON_CATEGORIES:
        extra = (conditions or {}).get("fuhyo_entry_ids") or []
        refs += [(FUHYO, int(i)) for i in extra if isinstance(i, int) or str(i).isdigit()]
    return list(dict.fromkeys(refs))


class Names:
    """The names of a page's person records for one reader: 「閲覧制限のある方」 for those restricted for them."""

    def __init__(self, user, refs: Iterable[Ref]) -> None:
        wanted: dict[str, set[int]] = {RESIDENT: set(), FUHYO: set()}
        for table, pk in refs:
            wanted[table].add(pk)
        self._names: dict[Ref, str] = {}
        self.shown: dict[str, list[int]] = {RESIDENT: [], FUHYO: []}  # named unmasked, for the access entry
        for table, ids in wanted.items():
            if not ids:
                continue
            model = MODELS[table]
            rows = model.objects.filter(pk__in=ids)  # type: ignore[attr-defined]  # Resident or FuhyoEntry
            visible = set(rows.visible_to(user).values_list("pk", flat=True))
            for pk, surname, given in model._base_manager.filter(pk__in=ids).values_list("pk", "surname", "given_name"):
                if pk in visible:
                    self._names[(table, pk)] = f"{surname}　{given}"
                    self.shown[table].append(pk)
                else:
                    self._names[(table, pk)] = RESTRICTED_LABEL
        for shown_ids in self.shown.values():
            shown_ids.sort()

    def text(self, ref: Ref) -> str:
        """「氏名（住民票 #id）」, 「閲覧制限のある方（附票 #id）」, or 「住民票 #id」 for a record that is no more."""
        table, pk = ref
        record = f"{RECORD_LABELS[table]} #{pk}"
        name = self._names.get(ref)
        return f"{name}（{record}）" if name else record

    def texts(self, refs: list[Ref], limit: int = SHOWN_PER_ENTRY) -> list[str]:
        shown = [self.text(ref) for ref in refs[:limit]]
        if len(refs) > limit:
            shown.append(f"ほか（計{len(refs)}件）")
        return shown

    def record_on(self, access) -> None:
        """Name on the access entry the persons this page showed by name (住民票 ids as subject ids, 附票 rows under
        `fuhyo_entry_ids`, as every page does)."""
        access.show(self.shown[RESIDENT])
        if self.shown[FUHYO]:
            ids = access.conditions.setdefault("fuhyo_entry_ids", [])
            ids.extend(pk for pk in self.shown[FUHYO] if pk not in ids)
