"""A supervisor's review of an analysis flag: who, when, with a required comment, written into the audit chain as one
`operation` entry (`flag_reviewed`, the flag's id, kind, day and clerk, and the SHA-256 of the comment: the comment
itself stays on the flag). A flag is reviewed once."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from common.context import current

from . import chain
from .log import client_ip, session_hash
from .models import AnalysisFlag, AuditLogEntry

REVIEW_ACTION = "flag_reviewed"


def mark_reviewed(flag: AnalysisFlag, *, actor, comment: str, request: HttpRequest | None = None) -> AnalysisFlag:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "確認のコメントを入力してください。"})
    with transaction.atomic():
        locked = AnalysisFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.reviewed_at is not None:
            raise ValidationError("この事項はすでに確認済みです。")
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment[:500]
        locked.save(update_fields=["reviewed_by", "reviewed_at", "review_comment"])
        ctx = current()
        chain.append(
            category=AuditLogEntry.Category.OPERATION,
            action=REVIEW_ACTION,
            outcome=AuditLogEntry.Outcome.DONE,
            user=actor,
            username=actor.get_username(),
            remote_addr=client_ip(request),
            session_hash=session_hash(request),
            request_id=getattr(request, "request_id", "") or (ctx.request_id if ctx else ""),
            method=getattr(request, "method", "") or "",
            path=(getattr(request, "path", "") or "")[:500],
            subject_kind="analysis_flag",
            subject_ids=[],
            conditions={
                "flag_id": locked.pk,
                "kind": locked.kind,
                "analysed_on": locked.analysed_on.isoformat(),
                "clerk": locked.username,
                "comment_sha256": hashlib.sha256(locked.review_comment.encode("utf-8")).hexdigest(),
            },
        )
    return locked
