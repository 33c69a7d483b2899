"""The run: draw 世帯 and 戸籍 until N current residents exist, writing them in batches.

The loop keeps two tallies, current residents (R) and current 附票 persons (F). After every 世帯 it adds 戸籍 of
people who hold their 本籍 in the ward but live elsewhere until F ≥ 1.25 × R, so the ratio holds at every size and the
data never needs a second pass. Nothing is kept from one batch to the next but counters: memory is flat.
"""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils import timezone

from common import context
from common.models import Municipality
from registry.models import Resident

from .addresses import OtherMunicipalities
from .families import FUHYO_RATIO, WardGenerator
from .writer import MODELS, Batch, Writer

# 2,000 residents make ~15,600 rows (世帯, 住民票, 異動, 戸籍, 附票, 附票の住所): one COPY per table of a few MB and
# ~16 MB of plans and rows. When pipelined up to three batches are alive (being drawn, queued, being written).
# Measured at 60,000 residents on PostgreSQL, batches of 1,000 / 5,000 / 20,000 took the same time within noise
# (48-53 s) with a peak RSS of 112 / 191 / 490 MB (Django alone: 70 MB): the per-batch cost (a dozen statements and
# a commit) is negligible, memory is not.
DEFAULT_BATCH_SIZE = 2_000
SOURCE = "command:seed_dummy"


class SeedRefused(Exception):
    """The database already holds residents and the caller did not ask to add to them."""


@dataclass
class SeedResult:
    residents: int  # current residents written (= the number asked for)
    fuhyo_persons: int  # current 附票 rows written
    rows: dict[str, int] = field(default_factory=dict)  # rows inserted per model
    seconds: float = 0.0


def seed_ward(
    *,
    residents: int,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    as_of: date | None = None,
    append: bool = False,
    use_copy: bool | None = None,
    progress: Callable[[int], None] | None = None,
    using: str = "default",
) -> SeedResult:
    """Write `residents` current residents with their 世帯, 異動 history, 戸籍 and 附票 (see the package docstring).

    Same seed and as_of → same rows (ids aside, which count on from what the tables hold). `progress` is called
    with the number of current residents written after each batch.
    """
    if residents < 1:
        raise ValueError("residents must be at least 1")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not append and Resident.objects.using(using).exists():
        raise SeedRefused(
            "住民票がすでに登録されています。ダミーデータは空のデータベースにだけ投入します。"
            "既存のデータに追加するときは --append を指定してください。"
        )
    started = time.monotonic()
    as_of = as_of or timezone.localdate()
    ward_code = settings.WARD_LG_CODE
    ward = Municipality.objects.using(using).filter(code=ward_code).first()
    if ward is None:
        raise SeedRefused(
            f"地方公共団体コード {ward_code}（WARD_LG_CODE）が地方公共団体の表にありません。"
            "manage.py load_municipalities を実行してください。"
        )
    others = (
        Municipality.objects.using(using)
        .filter(is_active=True)
        .exclude(code=ward_code)
        .exclude(kind=Municipality.Kind.PREFECTURE)
        .order_by("code")
    )
    municipalities = OtherMunicipalities([(m.code, m.full_name) for m in others])
    generator = WardGenerator(
        random.Random(seed),
        as_of=as_of,
        ward_code=ward_code,
        ward_full_name=ward.full_name,
        municipalities=municipalities,
    )
    audit = context.current()
    writer = Writer(
        seed=seed,
        as_of=as_of,
        source=audit.source if audit else SOURCE,
        request_id=audit.request_id if audit else uuid.uuid4().hex,
        now=timezone.now(),
        using=using,
        use_copy=use_copy,
    )

    made = fuhyo = 0
    batch = Batch()

    def flush() -> None:
        nonlocal batch
        writer.write(batch)
        if progress is not None:
            progress(batch.residents)
        batch = Batch()

    while made < residents:
        plan = generator.household(residents - made)
        batch.plans.append(plan)
        count = plan.current_count()
        made += count
        batch.residents += count
        fuhyo += sum(k.current_count() for k in plan.koseki)
        dissolved = generator.dissolved_household()
        if dissolved is not None:
            batch.plans.append(dissolved)
            fuhyo += sum(k.current_count() for k in dissolved.koseki)
        while fuhyo < FUHYO_RATIO * made:
            koseki = generator.koseki_elsewhere()
            batch.plans.append(koseki)
            fuhyo += koseki.current_count()
        if batch.residents >= batch_size:
            flush()
    if batch:
        flush()
    writer.finish()
    return SeedResult(
        residents=made,
        fuhyo_persons=fuhyo,
        rows={model._meta.label: writer.counts[model] for model in MODELS},
        seconds=time.monotonic() - started,
    )


def row_counts(using: str = "default") -> dict[str, int]:
    """Rows per table, for the summary line and the benchmark."""
    return {model._meta.label: model.objects.using(using).count() for model in MODELS}
