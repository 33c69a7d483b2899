"""Factories for 戸籍 and 附票 (dummy data only), and a helper that gives a resident a matching 附票 row."""

import datetime as dt

import factory

from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from registry.models import Resident
from registry.tests.factories import fuhyo_address_text, ward


class KosekiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Koseki

    honseki_address = factory.Sequence(lambda n: f"北新宿一丁目{n + 1}番")
    hittousha_surname = "山田"
    hittousha_given_name = "太郎"
    formed_on = dt.date(2005, 4, 1)
    formed_reason = "婚姻"


class FuhyoEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FuhyoEntry

    koseki = factory.SubFactory(KosekiFactory)
    position = factory.Sequence(lambda n: n + 1)
    surname = "山田"
    given_name = "太郎"
    surname_kana = "ヤマダ"
    given_name_kana = "タロウ"
    birth_date = dt.date(1980, 5, 1)
    sex = "1"
    juminhyo_code = ""
    entered_on = dt.date(2005, 4, 1)
    entered_reason = "婚姻"


def link_to_koseki(resident: Resident, koseki: Koseki | None = None, *, hittousha: bool = True) -> FuhyoEntry:
    """Put `resident` into a 戸籍 of the ward with a 附票 row that agrees with the 住民票 in every item."""
    if koseki is None:
        koseki = KosekiFactory(hittousha_surname=resident.surname, hittousha_given_name=resident.given_name)
    position = (koseki.entries.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    entry = FuhyoEntryFactory(
        koseki=koseki,
        position=position,
        surname=resident.surname,
        given_name=resident.given_name,
        surname_kana=resident.surname_kana,
        given_name_kana=resident.given_name_kana,
        birth_date=resident.birth_date,
        sex=resident.sex,
        juminhyo_code=resident.juminhyo_code,
    )
    FuhyoAddress.objects.create(
        entry=entry,
        municipality=ward(),
        address=fuhyo_address_text(resident),
        established_on=resident.address_established_on,
        recorded_on=resident.address_established_on,
        reason="転入",
        is_current=True,
    )
    resident.honseki_municipality = ward()
    resident.honseki_address = koseki.honseki_address
    resident.hittousha_name = koseki.hittousha_name
    resident.save()
    return entry
