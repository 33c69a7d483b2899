"""Re-arranging 世帯: who belongs to which 世帯 with which 続柄, applied safely and written to the history.

The caller describes the final placement of every person whose 世帯 or 続柄 changes; `restructure` checks that each
affected 世帯 ends with exactly one 世帯主 (or none when it is left empty, which dissolves it, or when the caller
accepts a 世帯主不在 after a death or a departure), then saves in an order that never trips the one-head constraint.
"""

import datetime as dt
from dataclasses import dataclass

from common.errors import ServiceError

from ..models import Household, Resident
from ..relationships import HEAD
from ..rules import Problems
from . import validation as v
from .history import head_name, ward_address, write_change
from .results import ChangeResult

_TEMPORARY = "同居人"  # a valid non-head 続柄 held for an instant while heads are swapped


@dataclass
class Placement:
    resident: Resident
    household: Household
    relationship: str


def relationship_problems(placements: list[Placement]) -> Problems:
    problems = Problems()
    for placement in placements:
        placement.relationship = v.clean_relationship(
            problems, f"relationships[{placement.resident.pk}]", placement.relationship
        )
    return problems


def final_members(household: Household, placements: list[Placement]) -> dict[int, str]:
    """resident id → 続柄 of the household's members after the placements."""
    members = {r.pk: r.relationship for r in household.current_members()}
    for p in placements:
        if p.household.pk == household.pk:
            members[p.resident.pk] = p.relationship
        else:
            members.pop(p.resident.pk, None)
    return members


def check_heads(
    problems: Problems,
    households: list[Household],
    placements: list[Placement],
    *,
    headless_allowed: set[int] = frozenset(),
) -> None:
    for household in households:
        members = final_members(household, placements)
        heads = sum(1 for rel in members.values() if rel == HEAD)
        if heads > 1:
            problems.add("relationships", f"世帯 {household.number} に世帯主が二人以上になります。")
        elif members and heads == 0 and household.pk not in headless_allowed:
            problems.add("relationships", f"世帯 {household.number} の世帯主を指定してください。")


def restructure(
    result: ChangeResult,
    placements: list[Placement],
    reason: str,
    change_date: dt.date,
    notified_on: dt.date | None,
    *,
    touched: list[Household],
    filing=None,
    note: str = "",
) -> None:
    """Apply the placements (the caller has validated them), write one history row per person, and dissolve the
    households left without members."""
    before = {p.resident.pk: (p.resident.household, p.resident.relationship) for p in placements}
    head_before = {h.pk: head_name(h) for h in touched}
    # 1. current heads that change step down to a temporary 続柄, so that no instant has two heads in a 世帯.
    for p in placements:
        old_household, old_rel = before[p.resident.pk]
        if old_rel == HEAD and (old_household.pk != p.household.pk or p.relationship != HEAD):
            p.resident.relationship = _TEMPORARY
            p.resident.save(update_fields=["relationship", "updated_at"])
    # 2. non-heads, then 3. heads, in their final places.
    for p in sorted(placements, key=lambda p: p.relationship == HEAD):
        p.resident.household = p.household
        p.resident.relationship = p.relationship
        p.resident.save(update_fields=["household", "relationship", "updated_at"])
    for household in touched:
        if not household.current_members().exists() and household.dissolved_on is None:
            household.dissolved_on = change_date
            household.save(update_fields=["dissolved_on", "updated_at"])
        if household not in result.households:
            result.households.append(household)
    for p in placements:
        old_household, old_rel = before[p.resident.pk]
        write_change(
            result,
            p.resident,
            reason,
            change_date,
            notified_on,
            previous_address=ward_address(old_household.address, old_household.katagaki),
            new_address=ward_address(p.household.address, p.household.katagaki),
            previous_head_name=head_before.get(old_household.pk, ""),
            new_head_name=head_name(p.household),
            previous_household_number=old_household.number,
            new_household_number=p.household.number,
            details={"relationship": [old_rel, p.relationship]} if old_rel != p.relationship else {},
            filing=filing,
            note=note,
        )
        if p.resident not in result.residents:
            result.residents.append(p.resident)


def require_members(household: Household, residents: list[Resident], field: str = "residents") -> None:
    ids = set(household.current_members().values_list("pk", flat=True))
    if any(r.pk not in ids for r in residents):
        raise ServiceError({field: ["指定した人がこの世帯の世帯員ではありません。"]})


def remaining_head_placements(
    household: Household,
    leaving: list[Resident],
    remaining_head: Resident | None,
    relationships: dict[int, str],
) -> tuple[list[Placement], bool]:
    """Placements for those who stay when the 世帯主 leaves (or dies). Returns (placements, headless).

    One person left becomes 世帯主 by itself; several need `remaining_head` (and the 続柄 of the others relative to
    the new head); without it the 世帯 is left 世帯主不在 until a 世帯主変更 is recorded.
    """
    leaving_ids = {r.pk for r in leaving}
    staying = [r for r in household.current_members() if r.pk not in leaving_ids]
    head = household.head
    if head is None or head.pk not in leaving_ids or not staying:
        return [], False
    if remaining_head is None and len(staying) == 1:
        remaining_head = staying[0]
    if remaining_head is None:
        return [], True
    if remaining_head.pk not in {r.pk for r in staying}:
        raise ServiceError({"remaining_head": ["新しい世帯主は残る世帯員から選んでください。"]})
    placements = [Placement(remaining_head, household, HEAD)]
    for r in staying:
        if r.pk != remaining_head.pk:
            relationship = relationships.get(r.pk)
            if relationship is None:
                raise ServiceError({f"relationships[{r.pk}]": ["新しい世帯主との続柄を入力してください。"]})
            placements.append(Placement(r, household, relationship))
    return placements, False
