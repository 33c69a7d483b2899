"""seed_dummy: the fake ward it builds obeys every rule of the registers, and the same seed builds the same ward."""

import hashlib
from datetime import date
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q

from common.validators import validate_juminhyo_code, validate_katakana, validate_name_part
from devtools.dummy import names
from devtools.dummy.writer import MODELS
from koseki_fuhyo.choices import EntryStatus, KosekiStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki
from registry.choices import ChangeReason, ResidentStatus
from registry.consistency import iter_inconsistencies
from registry.models import Household, Resident, ResidentChange
from registry.relationships import HEAD, validate_relationship

AS_OF = date(2026, 4, 1)
N = 300
ENTRY_REASONS = {ChangeReason.MOVE_IN, ChangeReason.MOVE_IN_FROM_ABROAD, ChangeReason.BIRTH}
VOLATILE = {"created_at", "updated_at", "recorded_at", "request_id"}  # the run's clock and request id


def seed(residents: int = N, **options) -> str:
    out = StringIO()
    options.setdefault("seed", 1)
    options.setdefault("as_of", AS_OF)
    call_command("seed_dummy", residents=residents, no_progress=True, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def ward(db, reference_data):
    seed()


def digest() -> str:
    """A hash of every row the seeder writes, without the run's clock and request id."""
    h = hashlib.sha256()
    for model in MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        for row in model.objects.order_by("pk").values_list(*fields):
            h.update(repr(row).encode())
    return h.hexdigest()


class _Rollback(Exception):
    pass


def seeded_digest(**options) -> str:
    """Seed inside a savepoint, hash, roll back: several runs compared within one test."""
    result = ""
    try:
        with transaction.atomic():
            seed(**options)
            result = digest()
            raise _Rollback
    except _Rollback:
        pass
    return result


def test_the_requested_number_of_current_residents_and_more_fuhyo_persons(ward):
    current = Resident.objects.filter(status=ResidentStatus.CURRENT)
    assert current.count() == N
    in_fuhyo = FuhyoEntry.objects.filter(status=EntryStatus.CURRENT).count()
    assert 1.2 * N <= in_fuhyo <= 1.35 * N  # the ward: 383,395 with 本籍 here for 305,627 residents
    in_ward = current.filter(honseki_municipality_id=settings.WARD_LG_CODE).count()
    assert 0.3 * N < in_ward < 0.6 * N
    assert current.exclude(honseki_municipality_id=settings.WARD_LG_CODE).exclude(honseki_address="").exists()
    # 附票 persons who live elsewhere, abroad, with an address history; 除籍 and 除票 exist too
    elsewhere = FuhyoAddress.objects.filter(is_current=True, entry__status=EntryStatus.CURRENT)
    assert elsewhere.exclude(municipality_id=settings.WARD_LG_CODE).filter(is_abroad=False).count() > 0.5 * N
    assert elsewhere.filter(is_abroad=True, municipality__isnull=True).exclude(country="").exists()
    assert FuhyoAddress.objects.filter(is_current=False).exists()
    assert Koseki.objects.filter(status=KosekiStatus.CLOSED).exists()
    removed = Resident.objects.filter(status=ResidentStatus.REMOVED)
    assert removed.filter(removal_reason=ChangeReason.MOVE_OUT).exists()
    assert 0 < removed.count() < 0.1 * N
    single = Household.objects.annotate(n=Count("members")).filter(n=1, dissolved_on__isnull=True).count()
    assert single > 0.5 * Household.objects.filter(dissolved_on__isnull=True).count()


def test_the_registers_agree(ward):
    assert list(iter_inconsistencies()) == []


def test_every_row_passes_the_field_validators(ward):
    for person in [*Resident.objects.all(), *FuhyoEntry.objects.all()]:
        validate_name_part(person.surname)
        validate_name_part(person.given_name)
        validate_katakana(person.surname_kana)
        validate_katakana(person.given_name_kana)
        if person.juminhyo_code or isinstance(person, Resident):
            validate_juminhyo_code(person.juminhyo_code)
    for model in MODELS:
        for obj in model.objects.all():
            # uniqueness and check constraints are the database's: the rows got in, so they hold
            obj.full_clean(validate_unique=False, validate_constraints=False)


def test_codes_are_unique_among_current_rows(ward):
    residents = Resident.objects.filter(status=ResidentStatus.CURRENT)
    assert residents.values("juminhyo_code").distinct().count() == N
    entries = FuhyoEntry.objects.filter(status=EntryStatus.CURRENT).exclude(juminhyo_code="")
    assert entries.values("juminhyo_code").distinct().count() == entries.count()


def test_households_have_one_head_valid_relationships_and_one_address(ward):
    for resident in Resident.objects.all():
        validate_relationship(resident.relationship)
    heads = Household.objects.filter(dissolved_on__isnull=True).annotate(
        heads=Count("members", filter=Q(members__relationship=HEAD, members__status=ResidentStatus.CURRENT))
    )
    assert set(heads.values_list("heads", flat=True)) == {1}
    dissolved = Household.objects.filter(dissolved_on__isnull=False)
    assert not Resident.objects.filter(household__in=dissolved, status=ResidentStatus.CURRENT).exists()
    assert Household.objects.values("number").distinct().count() == Household.objects.count()
    assert all(len(number) <= 10 for number in Household.objects.values_list("number", flat=True))


def test_dates_follow_each_other(ward):
    for r in Resident.objects.prefetch_related("changes"):
        assert r.birth_date <= r.became_resident_on <= r.address_established_on <= AS_OF
        assert r.removed_on is None or r.address_established_on <= r.removed_on <= AS_OF
        changes = list(r.changes.all())
        assert changes[0].reason in ENTRY_REASONS
        assert changes[0].change_date == r.became_resident_on
        if r.status == ResidentStatus.REMOVED:
            assert changes[-1].reason == r.removal_reason
        for change in changes:
            assert r.birth_date <= change.change_date <= change.notified_on <= AS_OF
    for entry in FuhyoEntry.objects.prefetch_related("addresses"):
        assert entry.birth_date <= entry.entered_on <= AS_OF
        assert entry.removed_on is None or entry.entered_on <= entry.removed_on
        lines = list(entry.addresses.all())
        assert [line.is_current for line in lines] == [False] * (len(lines) - 1) + [True]
        days = [line.established_on for line in lines]
        assert days == sorted(days)
        assert all(entry.birth_date <= line.established_on <= line.recorded_on <= AS_OF for line in lines)


def test_family_roles_fit_the_ages(ward):
    for household in Household.objects.prefetch_related("members"):
        members = list(household.members.all())
        head = next((m for m in members if m.relationship == HEAD), None)
        if head is None:
            continue
        for m in members:
            years = (m.birth_date - head.birth_date).days / 365.25
            if m.relationship == "子":
                assert years > 15
            elif m.relationship == "子の子":
                assert years > 30
            elif m.relationship.endswith(("父", "母")):
                assert years < -15


def test_names_keep_variation_sequences_and_supplementary_kanji(ward):
    for name, reading in names.all_names():
        validate_name_part(name)
        validate_katakana(reading)
    surnames = [
        *Resident.objects.values_list("surname", flat=True),
        *FuhyoEntry.objects.values_list("surname", flat=True),
    ]
    assert any(names.IVS_17 in s for s in surnames)
    assert any(any(ord(ch) > 0xFFFF for ch in s) for s in surnames)
    assert all("　" in n for n in Resident.objects.values_list("hittousha_name", flat=True))


def test_same_seed_same_ward_whatever_the_batch_size(db, reference_data):
    first = seeded_digest(seed=7)
    assert seeded_digest(seed=7, batch_size=37) == first
    assert seeded_digest(seed=8) != first


def test_refuses_to_add_to_existing_residents_unless_asked(ward):
    with pytest.raises(CommandError, match="--append"):
        seed()
    assert Resident.objects.filter(status=ResidentStatus.CURRENT).count() == N
    seed(append=True)  # same seed again: codes and 世帯番号 still unique
    assert Resident.objects.filter(status=ResidentStatus.CURRENT).count() == 2 * N
    assert list(iter_inconsistencies()) == []
    assert ResidentChange.objects.values("resident").distinct().count() == Resident.objects.count()


@pytest.mark.django_db(transaction=True)
def test_pipelined_copy_outside_a_transaction_writes_the_same_ward(reference_data):
    """Outside a transaction on PostgreSQL a second connection inserts while the next batch is drawn."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY and the pipelined writer are PostgreSQL-only")
    inline = seeded_digest(batch_size=50)  # inside a transaction: one connection, rolled back
    seed(batch_size=50)
    assert Resident.objects.filter(status=ResidentStatus.CURRENT).count() == N
    assert list(iter_inconsistencies()) == []
    assert digest() == inline
