"""Cross-ward dummy people: two instances derive the same persons, and each writes its own side of them — the
住民票 of those who live there, the 戸籍 and 附票 of those whose 本籍 is there — consistently and only once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from devtools.dummy.cross_ward import cross_ward_people, write_cross_ward
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from registry.choices import ResidentStatus
from registry.consistency import iter_inconsistencies
from registry.models import Resident

SHINJUKU, SHIBUYA = "131041", "131130"

pytestmark = pytest.mark.django_db


def test_both_instances_derive_the_same_people_half_living_on_each_side():
    mine = cross_ward_people(SHINJUKU, SHIBUYA, 8, seed=3)
    assert mine == cross_ward_people(SHIBUYA, SHINJUKU, 8, seed=3)
    assert mine != cross_ward_people(SHINJUKU, SHIBUYA, 8, seed=4)
    assert len({p.juminhyo_code for p in mine}) == 8
    assert sorted((p.lives_in, p.honseki_in) for p in mine) == [(SHINJUKU, SHIBUYA)] * 4 + [(SHIBUYA, SHINJUKU)] * 4


@pytest.mark.parametrize(("ward", "partner"), [(SHINJUKU, SHIBUYA), (SHIBUYA, SHINJUKU)])
def test_each_ward_writes_its_side(settings, reference_data, ward, partner):
    settings.WARD_LG_CODE = ward
    people = cross_ward_people(ward, partner, 6, seed=3)
    assert write_cross_ward(partner, 6, seed=3) == (3, 3)

    residents = {r.juminhyo_code: r for r in Resident.objects.all()}
    here = [p for p in people if p.lives_in == ward]
    assert set(residents) == {p.juminhyo_code for p in here}
    for person in here:
        resident = residents[person.juminhyo_code]
        assert (resident.surname, resident.given_name, resident.birth_date) == (
            person.surname,
            person.given_name,
            person.birth_date,
        )
        assert resident.status == ResidentStatus.CURRENT
        assert (resident.honseki_municipality_id, resident.honseki_address) == (partner, person.honseki_address)
        assert resident.hittousha_name == person.name
        assert resident.changes.count() == 1

    entries = {e.juminhyo_code: e for e in FuhyoEntry.objects.select_related("koseki")}
    registered_here = [p for p in people if p.honseki_in == ward]
    assert set(entries) == {p.juminhyo_code for p in registered_here}
    for person in registered_here:
        entry = entries[person.juminhyo_code]
        assert entry.koseki.honseki_address == person.honseki_address
        assert entry.koseki.hittousha_name == person.name
        current = FuhyoAddress.objects.get(entry=entry, is_current=True)
        assert (current.municipality_id, current.address) == (partner, person.address)
    assert list(iter_inconsistencies()) == []


def test_the_command_adds_the_shared_people_once(reference_data):
    out = StringIO()
    call_command("seed_dummy", cross_ward=SHIBUYA, cross_ward_count=4, cross_ward_seed=1, stdout=out)
    call_command("seed_dummy", cross_ward=SHIBUYA, cross_ward_count=4, cross_ward_seed=1, stdout=out)
    assert Resident.objects.count() == 2
    assert FuhyoEntry.objects.count() == 2
    assert "住民票 0 人、附票 0 人" in out.getvalue().splitlines()[-1]


def test_the_command_needs_residents_or_a_partner(reference_data):
    with pytest.raises(CommandError, match="--residents"):
        call_command("seed_dummy")
    with pytest.raises(CommandError, match="999997"):  # a valid code that is not in the table
        call_command("seed_dummy", cross_ward="999997")
