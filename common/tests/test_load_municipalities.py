"""The municipality table: bundled by migration, and loadable from 総務省's CSV layout."""

import pytest
from django.core.management import CommandError, call_command

from common.models import Municipality

pytestmark = pytest.mark.django_db


def test_migration_loaded_the_ward_and_every_prefecture():
    assert Municipality.objects.get(code="131041").full_name == "東京都新宿区"
    assert Municipality.objects.filter(kind=Municipality.Kind.PREFECTURE).count() == 47
    assert Municipality.objects.filter(kind=Municipality.Kind.SPECIAL_WARD).count() == 23


def test_migration_loaded_every_municipality_and_every_ward_of_the_designated_cities():
    """1,741 市区町村 (特別区 included) and the 行政区 of the 20 政令指定都市; vanished ones kept, not 現存."""
    active = Municipality.objects.filter(is_active=True)
    municipal = (
        Municipality.Kind.SPECIAL_WARD,
        Municipality.Kind.DESIGNATED_CITY,
        Municipality.Kind.CITY,
        Municipality.Kind.TOWN,
        Municipality.Kind.VILLAGE,
    )
    assert active.filter(kind__in=municipal).count() == 1741
    assert active.filter(kind=Municipality.Kind.DESIGNATED_CITY).count() == 20
    assert active.filter(kind=Municipality.Kind.ADMINISTRATIVE_WARD).count() == 171
    yokohama_naka = Municipality.objects.get(code="141046")
    assert (yokohama_naka.full_name, yokohama_naka.name_kana) == ("神奈川県横浜市中区", "ヨコハマシナカク")
    # 浜松市 (2024-01-01): seven 行政区 became three; the old codes stay for a 従前の住所 that names them.
    hamamatsu = Municipality.objects.filter(code__startswith="2213").exclude(code="221309")
    assert sorted(hamamatsu.filter(is_active=True).values_list("name", flat=True)) == ["浜松市中央区", "浜松市浜名区"]
    assert Municipality.objects.get(code="221406").is_active
    assert hamamatsu.filter(is_active=False).count() == 7


def test_load_soumu_csv_adds_and_updates(tmp_path, capsys):
    csv = tmp_path / "soumu.csv"
    csv.write_text(
        "団体コード,都道府県名（漢字）,市区町村名（漢字）,都道府県名（カナ）,市区町村名（カナ）\n"
        "011011,北海道,札幌市中央区,ﾎｯｶｲﾄﾞｳ,ｻｯﾎﾟﾛｼﾁｭｳｵｳｸ\n"
        "131041,東京都,新宿区,ﾄｳｷｮｳﾄ,ｼﾝｼﾞｭｸｸ\n"
        "013030,北海道,当別町,ﾎｯｶｲﾄﾞｳ,ﾄｳﾍﾞﾂﾁｮｳ\n",
        encoding="utf-8",
    )
    Municipality.objects.filter(code__in=["011011", "013030"]).delete()  # as in a database without them
    Municipality.objects.filter(code="131041").update(name_kana="")
    call_command("load_municipalities", file=csv)
    assert "地方公共団体 2 件追加、1 件更新" in capsys.readouterr().out
    chuo = Municipality.objects.get(code="011011")
    assert chuo.kind == Municipality.Kind.ADMINISTRATIVE_WARD
    assert chuo.name_kana == "サッポロシチュウオウク"
    assert Municipality.objects.get(code="013030").kind == Municipality.Kind.TOWN
    call_command("load_municipalities", file=csv)  # safe to run twice
    assert Municipality.objects.filter(code="011011").count() == 1


def test_bad_check_digit_is_refused_and_nothing_is_written(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("011011,北海道,札幌市中央区,,\n011012,北海道,誤り,,\n", encoding="utf-8")
    Municipality.objects.filter(code="011011").delete()
    with pytest.raises(CommandError, match="検査数字"):
        call_command("load_municipalities", file=csv)
    assert not Municipality.objects.filter(code="011011").exists()


def test_dry_run_writes_nothing(tmp_path, capsys):
    csv = tmp_path / "one.csv"
    csv.write_text("011011,北海道,札幌市中央区,,\n", encoding="utf-8")
    Municipality.objects.filter(code="011011").delete()
    call_command("load_municipalities", file=csv, dry_run=True)
    assert "1 件を検査しました" in capsys.readouterr().out
    assert not Municipality.objects.filter(code="011011").exists()
