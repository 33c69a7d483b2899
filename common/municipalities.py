"""The 地方公共団体 reference table: loading it, and finding this instance's ward."""

import csv
import functools
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from .checkdigits import is_valid_lg_code
from .kana import fold_kana

BUNDLED_TABLE = Path(__file__).resolve().parent / "data" / "municipalities.tsv"
_DESIGNATED_CITY_SUFFIXES = ("100", "130", "140", "150")


class MunicipalityTableError(ValueError):
    """A row of a municipality table that cannot be loaded; the message names the line."""


def kind_of(code: str, prefecture: str, name: str) -> str:
    if not name:
        return "prefecture"
    if prefecture == "東京都" and code.startswith("131") and name.endswith("区"):
        return "special_ward"
    if name.endswith("区"):
        return "administrative_ward"
    if name.endswith("市"):
        return "designated_city" if code[2:5] in _DESIGNATED_CITY_SUFFIXES else "city"
    if name.endswith("町"):
        return "town"
    if name.endswith("村"):
        return "village"
    raise MunicipalityTableError(f"{code}: 種別を判定できません（{name}）")


def read_table(path: Path) -> Iterator[dict]:
    """Rows of our bundled TSV, or of 総務省's 全国地方公共団体コード list saved as CSV (UTF-8)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        delimiter = "\t" if "\t" in sample else ","
        for lineno, row in enumerate(csv.reader(f, delimiter=delimiter), start=1):
            if not row or row[0].startswith("#") or not row[0].strip().isdigit():
                continue  # comments and header lines
            code = row[0].strip()
            if not is_valid_lg_code(code):
                raise MunicipalityTableError(
                    f"{path.name} {lineno}行目: 地方公共団体コード {code} の検査数字が不正です"
                )
            prefecture = row[1].strip()
            name = row[2].strip() if len(row) > 2 else ""
            active = True
            if delimiter == "\t":  # ours: code, 都道府県名, 市区町村名, カナ, 種別[, 現存 1/0]
                kana, kind = row[3].strip(), row[4].strip()
                active = len(row) < 6 or row[5].strip() != "0"
            else:  # 総務省 layout: code, 都道府県名, 市区町村名, 都道府県名カナ, 市区町村名カナ
                kana, kind = (fold_kana(row[4]) if len(row) > 4 else ""), kind_of(code, prefecture, name)
            yield {
                "code": code,
                "prefecture_name": prefecture,
                "name": name,
                "name_kana": kana,
                "kind": kind,
                "is_active": active,
            }


def load_rows(rows: Iterable[dict], municipality_model=None) -> tuple[int, int]:
    """Insert or update rows; returns (created, updated). Never deletes: a vanished code is kept for history."""
    if municipality_model is None:
        # inside: scripts/build_municipality_table.py imports this module without the Django settings models need
        from .models import Municipality as municipality_model
    created = updated = 0
    rows = list(rows)
    with transaction.atomic():
        existing = {m.code: m for m in municipality_model.objects.filter(code__in=[row["code"] for row in rows])}
        new = [municipality_model(**row) for row in rows if row["code"] not in existing]
        municipality_model.objects.bulk_create(new, batch_size=500)  # a whole table into an empty database at once
        created = len(new)
        for row in rows:
            current = existing.get(row["code"])
            if current is not None and any(getattr(current, field) != value for field, value in row.items()):
                for field, value in row.items():
                    setattr(current, field, value)
                current.save()
                updated += 1
    ward_or_none.cache_clear()
    return created, updated


@functools.cache
def ward_or_none():
    # inside: scripts/build_municipality_table.py imports this module without the Django settings models need
    from .models import Municipality

    return Municipality.objects.filter(code=settings.WARD_LG_CODE).first()


def ward():
    """This instance's own municipality (settings.WARD_LG_CODE)."""
    found = ward_or_none()
    if found is None:
        raise ImproperlyConfigured(
            f"WARD_LG_CODE={settings.WARD_LG_CODE} is not in the municipality table: run "
            "`manage.py load_municipalities` or check the setting."
        )
    return found
