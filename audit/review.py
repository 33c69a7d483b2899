"""The supervisors' audit review: the audit chain (access, permission, account, operation and transmission entries)
and the change history (django-auditlog's LogEntry rows, which include every 異動履歴 and 附票 change) read as one
stream, newest first, with one set of filters.

Paging is keyset per source, never OFFSET and never COUNT(*): each source is read `size + 1` rows older than its own
cursor (timestamp, id) over its time index, the two are merged by time, and the next page's cursor of each source is
the last row of that source that was shown. The cost of a page does not grow with its depth. See
docs/audit-review.md for the indexes each filter uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from registry.models import Resident, ResidentChange

from . import labels, people, selectors
from .models import AuditLogEntry
from .office_hours import day_bounds

PAGE_SIZE = 50
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CHANGE_ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE, "delete": LogEntry.Action.DELETE}
CHANGE_LABELS = {action: labels.CHANGE_ACTION_LABELS[name] for name, action in CHANGE_ACTIONS.items()}


class Source:
    ALL = ""
    ACCESS = "access"
    CHANGES = "changes"
    TRANSMISSION = "transmission"
    CHOICES = [
        (ALL, "すべて"),
        (ACCESS, "アクセス・権限・アカウント・運用"),
        (CHANGES, "変更履歴"),
        (TRANSMISSION, "送受信"),
    ]


@dataclass
class ReviewFilter:
    username: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source: str = Source.ALL
    action: str = ""
    outcome: str = ""
    person: selectors.PersonRecords | None = None
    partner: str = ""

    @property
    def wants_audit(self) -> bool:
        return self.source != Source.CHANGES

    @property
    def wants_changes(self) -> bool:
        if self.source not in (Source.ALL, Source.CHANGES) or self.partner:
            return False
        if self.outcome and self.outcome != AuditLogEntry.Outcome.DONE:
            return False
        return not self.action or self.action in CHANGE_ACTIONS


# --- Cursors -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Strictly older than (at, pk) in the order (time desc, id desc)."""

    at: dt.datetime
    pk: int

    def encode(self) -> str:
        return f"{(self.at - EPOCH) // dt.timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        try:
            micros, pk = (int(part) for part in (text or "").split(".", 1))
        except ValueError:
            return None
        return cls(EPOCH + dt.timedelta(microseconds=micros), pk)

    def q(self, time_field: str) -> Q:
        # The first term is a plain range on the time index; the OR only sorts out rows of the same instant.
        return Q(**{f"{time_field}__lte": self.at}) & (Q(**{f"{time_field}__lt": self.at}) | Q(pk__lt=self.pk))


EXHAUSTED = "end"


# --- The two sources ------------------------------------------------------------------------------------------------


def audit_entries(flt: ReviewFilter) -> QuerySet:
    qs = AuditLogEntry.objects.all()
    if flt.source == Source.TRANSMISSION or flt.partner:
        qs = qs.filter(category=AuditLogEntry.Category.TRANSMISSION)
    elif flt.source == Source.ACCESS:
        qs = qs.exclude(category=AuditLogEntry.Category.TRANSMISSION)
    if flt.partner:
        if connection.vendor == "postgresql":
            # conditions->>'partner', the expression of the partial index audit_transmission_partner_idx.
            qs = qs.annotate(partner=KT("conditions__partner")).filter(partner=flt.partner)
        else:  # SQLite would compare KT's text with the partner code read as a JSON number
            qs = qs.filter(conditions__partner=flt.partner)
    if flt.username:
        qs = qs.filter(username=flt.username)
    if flt.date_from:
        qs = qs.filter(occurred_at__gte=day_bounds(flt.date_from)[0])
    if flt.date_to:
        qs = qs.filter(occurred_at__lt=day_bounds(flt.date_to)[1])
    if flt.action:
        qs = qs.filter(action=flt.action)
    if flt.outcome:
        qs = qs.filter(outcome=flt.outcome)
    if flt.person is not None:
        qs = selectors.with_text(qs).filter(selectors.person_q(flt.person))
    return qs


def _content_type(model) -> ContentType:
    return ContentType.objects.get_for_model(model, for_concrete_model=False)


def change_entries(flt: ReviewFilter) -> QuerySet:
    qs = LogEntry.objects.select_related("content_type", "actor")
    if flt.username:
        qs = qs.filter(actor__username=flt.username)
    if flt.date_from:
        qs = qs.filter(timestamp__gte=day_bounds(flt.date_from)[0])
    if flt.date_to:
        qs = qs.filter(timestamp__lt=day_bounds(flt.date_to)[1])
    if flt.action in CHANGE_ACTIONS:
        qs = qs.filter(action=CHANGE_ACTIONS[flt.action])
    if flt.person is not None:
        resident_ids = [r.pk for r in flt.person.residents]
        entry_ids = [e.pk for e in flt.person.fuhyo_entries]
        qs = qs.filter(
            Q(content_type=_content_type(Resident), object_id__in=resident_ids)
            | Q(
                content_type=_content_type(ResidentChange),
                object_id__in=ResidentChange.objects.filter(resident_id__in=resident_ids).values("pk"),
            )
            | Q(content_type=_content_type(FuhyoEntry), object_id__in=entry_ids)
            | Q(
                content_type=_content_type(FuhyoAddress),
                object_id__in=FuhyoAddress.objects.filter(entry_id__in=entry_ids).values("pk"),
            )
        )
    return qs


# --- Rows ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    """One item of the 条件・理由・内容 column: its label, the text shown, and the whole value when the text is
    shortened (a hash)."""

    label: str
    text: str
    full: str = ""


@dataclass
class ReviewRow:
    source: str  # "audit" or "change"
    pk: int
    at: dt.datetime
    username: str
    category: str
    action: str
    outcome: str
    denied: bool = False
    subject: str = ""
    details: list[Detail] = field(default_factory=list)
    action_label: str = ""
    people: list[people.Ref] = field(default_factory=list)  # the person records named (see name_people)
    names: list[str] = field(default_factory=list)

    @property
    def local(self) -> dt.datetime:
        return timezone.localtime(self.at)

    @property
    def sort_key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, 1 if self.source == "audit" else 0, self.pk)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detail(key: str, value: Any) -> Detail:
    """A condition in words (labels.value_text); a hash shortened to its first characters, whole on demand."""
    label = labels.condition_label(str(key))
    if labels.looks_like_hash(str(key), value):
        return Detail(label, value[: labels.HASH_SHOWN] + "…", value)
    return Detail(label, _short(labels.value_text(str(key), value)))


def audit_row(entry: AuditLogEntry) -> ReviewRow:
    ids = entry.subject_ids or []
    refs = people.refs_of(entry.category, entry.subject_kind, ids, entry.conditions)
    subject = ""
    if ids and not refs:
        subject = f"{labels.subject_kind_label(entry.subject_kind)} {', '.join(str(i) for i in ids[:5])}"
        subject += f" ほか（計{len(ids)}件）" if len(ids) > 5 else ""
    conditions = {k: v for k, v in (entry.conditions or {}).items() if not (refs and k == "fuhyo_entry_ids")}
    return ReviewRow(
        source="audit",
        pk=entry.pk,
        at=entry.occurred_at,
        username=entry.username,
        category=entry.get_category_display(),
        action=entry.action,
        action_label=labels.action_label(entry.action),
        outcome=entry.get_outcome_display(),
        denied=entry.outcome == AuditLogEntry.Outcome.DENIED,
        subject=subject,
        people=refs,
        details=[detail(k, v) for k, v in sorted(conditions.items())][:8],
    )


def _field_label(model, name: str) -> str:
    """A changed field by its verbose_name (the 項目 as the screens call it); the stored name when none is found."""
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))  # a reverse relation has no verbose_name


def change_row(entry: LogEntry) -> ReviewRow:
    """The model and id of the changed row and the names of the changed fields; never the values (the change
    history holds names and addresses — the Django admin shows them to whoever may see them). A 住民票 or 附票 row
    is named by its person's name, through the visibility rule (name_people)."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    label = model._meta.verbose_name if model is not None else entry.content_type.model
    fields = sorted((entry.changes or {}).keys()) if isinstance(entry.changes, dict) else []
    fields = [_field_label(model, name) for name in fields]
    table = {Resident: people.RESIDENT, FuhyoEntry: people.FUHYO}.get(model) if model is not None else None
    refs = [(table, int(entry.object_pk))] if table and str(entry.object_pk).isdigit() else []
    return ReviewRow(
        source="change",
        pk=entry.pk,
        at=entry.timestamp,
        username=entry.actor.get_username() if entry.actor_id else "",
        category="変更履歴",
        action=CHANGE_LABELS.get(entry.action, str(entry.action)),
        action_label=CHANGE_LABELS.get(entry.action, str(entry.action)),
        outcome="実施",
        subject=f"{label} #{entry.object_pk}",
        people=refs,
        details=[Detail("項目", _short("、".join(fields), 120))] if fields else [],
    )


def name_people(rows: list[ReviewRow], user) -> people.Names:
    """Each row's persons by name for this reader (「閲覧制限のある方」 where restricted for them); returns the names,
    whose `record_on(access)` puts the persons named on the page's access entry."""
    names = people.Names(user, [ref for row in rows for ref in row.people[: people.SHOWN_PER_ENTRY]])
    for row in rows:
        row.names = names.texts(row.people)
    return names


# --- One page --------------------------------------------------------------------------------------------------------


@dataclass
class ReviewPage:
    rows: list[ReviewRow]
    next_audit: str | None  # cursor text for the next page, None when there is no next page
    next_change: str | None

    @property
    def has_next(self) -> bool:
        return self.next_audit is not None


def _read(qs: QuerySet, time_field: str, cursor_text: str | None, size: int) -> list:
    if cursor_text == EXHAUSTED:
        return []
    cursor = Cursor.decode(cursor_text)
    if cursor is not None:
        qs = qs.filter(cursor.q(time_field))
    return list(qs.order_by(f"-{time_field}", "-pk")[: size + 1])


def page(
    flt: ReviewFilter, *, audit_before: str | None = None, change_before: str | None = None, size: int = PAGE_SIZE
) -> ReviewPage:
    audit = (
        [audit_row(e) for e in _read(audit_entries(flt), "occurred_at", audit_before, size)] if flt.wants_audit else []
    )
    changes = (
        [change_row(e) for e in _read(change_entries(flt), "timestamp", change_before, size)]
        if flt.wants_changes
        else []
    )
    merged = sorted([*audit, *changes], key=lambda r: r.sort_key, reverse=True)
    shown = merged[:size]
    if len(merged) <= size:
        return ReviewPage(shown, None, None)

    def next_cursor(source: str, incoming: str | None, fetched: list[ReviewRow]) -> str:
        taken = [r for r in shown if r.source == source]
        if taken:
            return Cursor(taken[-1].at, taken[-1].pk).encode()
        return (incoming or "") if fetched else EXHAUSTED

    return ReviewPage(
        shown,
        next_cursor("audit", audit_before, audit),
        next_cursor("change", change_before, changes),
    )
