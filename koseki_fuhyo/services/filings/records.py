"""戸籍届出 recorded only in the 戸籍 (認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択,
外国国籍喪失): the 戸籍 gains a 身分事項; nothing of the 附票 or the 住民票 changes."""

from typing import Any

from django.db import transaction

from common.errors import ServiceError

from ...choices import FilingKind
from .base import FiledPerson, FilingHeader, FilingResult, begin, finish

RECORD_ONLY_KINDS = frozenset(
    {
        FilingKind.RECOGNITION,
        FilingKind.PARENTAL_AUTHORITY,
        FilingKind.GUARDIANSHIP,
        FilingKind.AFFINITY_TERMINATION,
        FilingKind.DISINHERITANCE,
        FilingKind.NATIONALITY_RESERVATION,
        FilingKind.NATIONALITY_CHOICE,
        FilingKind.FOREIGN_NATIONALITY_LOSS,
    }
)


@transaction.atomic
def file_record_only(
    kind: str, header: FilingHeader, persons: list[FiledPerson], details: dict[str, Any] | None = None
) -> FilingResult:
    """認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択, 外国国籍喪失:
    the 戸籍 gains a 身分事項; no
    item of the 附票 or the 住民票 changes, so nothing else is written and no notice is due."""
    if kind not in RECORD_ONLY_KINDS:
        raise ServiceError({"kind": ["この届出事件は記録のみの届出ではありません。"]})
    if not persons:
        raise ServiceError({"persons": ["事件本人を入力してください。"]})
    run = begin(kind, header, persons, details or {})
    return finish(run)
