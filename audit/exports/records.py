"""Records for a hand-over: the residents a supervisor selects — by the clerk's search conditions (registry.search)
or by a pasted list of 住民票コード — as the CSV of the 住民票 items the recipient needs.

Restricted persons (閲覧制限, 支援措置) are left out unless the supervisor holds an active grant for them
(`audit.restrictions.may_open`, the same rule as every screen); how many were left out is counted and shown, never
who. The number of rows is capped (MAX_ROWS): a hand-over of a whole ward is a batch (jlis_bulk_export), not a
screen."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery

from common.municipalities import ward_or_none
from common.validators import validate_juminhyo_code
from registry.addresses import full_address
from registry.choices import ResidentStatus
from registry.models import Resident
from registry.relationships import HEAD
from registry.search import KanaKey, ResidentQuery, ensure_sqlite_functions, filtered

from ..restrictions import may_open
from ..visibility import hidden_names, mask_names

HEADER = (
    "住民票コード",
    "氏名",
    "氏名の振り仮名",
    "生年月日",
    "性別",
    "住所",
    "世帯主",
    "続柄",
    "本籍",
    "筆頭者",
    "状態",
)
MAX_ROWS = 10_000
MAX_CODES = MAX_ROWS
CHUNK = 500
_CODE_SEPARATORS = re.compile(r"[\s,、，;；]+")


@dataclass(frozen=True)
class RecordSelection:
    """Either search conditions or a list of 住民票コード (not both), and which 住民票 (現存, 除票, both)."""

    query: ResidentQuery | None = None
    codes: tuple[str, ...] = ()
    status: str = ResidentStatus.CURRENT

    @property
    def by_codes(self) -> bool:
        return bool(self.codes)

    def access_conditions(self) -> dict:
        """For the access log: the search conditions as the search screen logs them, or how many codes."""
        if self.by_codes:
            return {"codes": len(self.codes), "status": self.status}
        return self.query.as_conditions() if self.query else {}

    def describe(self) -> tuple[str, dict]:
        """The 管理簿's content line and conditions: which kind of selection, never the values (no personal data)."""
        status_label = {"current": "現存", "removed": "除票", "all": "現存・除票"}.get(self.status, self.status)
        if self.by_codes:
            return (
                f"住民票の記載事項（住民票コード {len(self.codes)}件の指定、{status_label}）",
                {"mode": "codes", "code_count": len(self.codes), "status": self.status},
            )
        keys = sorted(k for k in (self.query.as_conditions() if self.query else {}) if k != "status")
        return (
            f"住民票の記載事項（検索条件：{'・'.join(keys) or 'なし'}、{status_label}）",
            {"mode": "search", "keys": keys, "status": self.status},
        )


def parse_codes(text: str) -> list[str]:
    """住民票コード pasted one a line (or separated by commas or spaces), full-width digits allowed; duplicates
    dropped, order kept. Raises ValidationError naming the lines that are not valid codes."""
    codes: list[str] = []
    bad: list[str] = []
    for token in _CODE_SEPARATORS.split(unicodedata.normalize("NFKC", text or "")):
        if not token:
            continue
        try:
            validate_juminhyo_code(token)
        except ValidationError:
            bad.append(token)
            continue
        codes.append(token)
    if bad:
        shown = "、".join(bad[:10]) + ("…" if len(bad) > 10 else "")
        raise ValidationError(f"住民票コードとして正しくないものが{len(bad)}件あります：{shown}", code="bad_codes")
    codes = list(dict.fromkeys(codes))
    if len(codes) > MAX_CODES:
        raise ValidationError(f"住民票コードは{MAX_CODES}件まで指定できます。", code="too_many_codes")
    return codes


def selected(selection: RecordSelection, user=None) -> QuerySet[Resident]:
    """The selected residents, in 氏名カナ, 生年月日, id order. By search conditions, only those visible to `user`
    (audit.visibility): a person restricted for the user is not selected at all, so that no count tells whether a
    restricted person lives at an address or in a 世帯. By 住民票コード (an identity item, as a masked search row)
    restricted persons are selected and then left out, and the 確認 page counts them."""
    if selection.by_codes:
        qs = Resident.objects.filter(juminhyo_code__in=selection.codes)
        if selection.status in (ResidentStatus.CURRENT, ResidentStatus.REMOVED):
            qs = qs.filter(status=selection.status)
    else:
        ensure_sqlite_functions()
        qs = filtered(selection.query or ResidentQuery()).visible_to(user)  # type: ignore[attr-defined]  # a ResidentQuerySet
    return qs.annotate(kana_order=KanaKey()).order_by("kana_order", "birth_date", "pk")


@dataclass
class Preview:
    """What the 確認 page tells before anything is written."""

    selected: int = 0
    left_out: int = 0  # restricted, no grant
    not_found: list[str] = field(default_factory=list)  # pasted codes without a 住民票 of the chosen status
    too_many: bool = False

    @property
    def exported(self) -> int:
        return self.selected - self.left_out


def preview(selection: RecordSelection, user) -> Preview:
    rows = list(selected(selection, user).values_list("pk", "juminhyo_code", "access_restricted")[: MAX_ROWS + 1])
    result = Preview(selected=len(rows), too_many=len(rows) > MAX_ROWS)
    restricted_ids = [pk for pk, _, restricted in rows if restricted]
    if restricted_ids:
        result.left_out = sum(1 for r in Resident.objects.filter(pk__in=restricted_ids) if not may_open(user, r))
    if selection.by_codes:
        found = {code for _, code, _ in rows}
        result.not_found = [code for code in selection.codes if code not in found]
    return result


@dataclass
class Tally:
    """Filled while the rows are written: who went into the file, who was left out."""

    exported_ids: list[int] = field(default_factory=list)
    granted_ids: list[int] = field(default_factory=list)  # restricted persons exported under a grant
    left_out: int = 0


def _with_head_name(qs: QuerySet[Resident]) -> QuerySet[Resident]:
    heads = Resident.objects.filter(household=OuterRef("household"), relationship=HEAD, status=ResidentStatus.CURRENT)
    return qs.annotate(
        head_surname=Subquery(heads.values("surname")[:1]),
        head_given_name=Subquery(heads.values("given_name")[:1]),
    )


def _row(r: Resident, ward, names: frozenset[str] = frozenset()) -> tuple:
    head = mask_names(f"{r.head_surname}　{r.head_given_name}" if r.head_surname else "", names)  # type: ignore[attr-defined]  # annotated
    honseki = full_address(r.honseki_municipality, r.honseki_address) if r.honseki_municipality else ""
    return (
        r.juminhyo_code,
        r.name,
        r.name_kana,
        r.birth_date.isoformat(),
        r.get_sex_display(),
        full_address(ward, r.address, r.katagaki),
        head,
        r.relationship,
        honseki,
        mask_names(r.hittousha_name, names),
        r.get_status_display(),
    )


def record_rows(selection: RecordSelection, user, tally: Tally) -> Iterator[tuple]:
    """The selected residents as CSV rows, lazily, a chunk of CHUNK residents at a time; restricted persons without
    a grant are counted in `tally` and skipped. At most MAX_ROWS residents are read."""
    ward = ward_or_none()
    ids = list(selected(selection, user).values_list("pk", flat=True)[: MAX_ROWS + 1])
    names = hidden_names(user)
    if len(ids) > MAX_ROWS:
        raise ValidationError(f"条件に合う人が{MAX_ROWS}人を超えています。条件を絞ってください。", code="too_many")
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        by_id = _with_head_name(Resident.objects.filter(pk__in=chunk).select_related("honseki_municipality")).in_bulk()
        for pk in chunk:
            resident = by_id.get(pk)
            if resident is None:
                continue
            if resident.access_restricted:
                if not may_open(user, resident):
                    tally.left_out += 1
                    continue
                tally.granted_ids.append(pk)
            tally.exported_ids.append(pk)
            yield _row(resident, ward, names)
