"""Regressions found by the fuzz tests (common/tests/test_fuzz_forms.py, test_fuzz_screens.py): ids of 世帯員 in a
form or in `?resident=` that are digits to `str.isdigit()` but not to `int()`, or too large for any row."""

import pytest

from common.roles import RESIDENT_CLERK
from common.tests.fuzz_support import counts_unchanged, is_japanese
from registry.forms.changes.moves import MoveWithinForm
from registry.forms.changes.removals import MoveOutForm
from registry.tests.change_screens import family, login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "١", "9" * 30, str(2**63)])
def test_a_preselected_member_that_is_no_id_is_ignored(client, clerk, value):
    """`?resident=²` answered 500 (ValueError in int()); `?resident=<30 digits>` overflowed the SQLite query."""
    head, _, _ = family()
    desk = login(client, clerk, RESIDENT_CLERK)
    with counts_unchanged():
        response = desk.get(f"/changes/move-within/{head.household.pk}/", {"resident": [value, str(head.pk)]})
    assert response.status_code == 200


@pytest.mark.parametrize("form_class", [MoveOutForm, MoveWithinForm])
@pytest.mark.parametrize("value", ["999999999999999999999999999999", "²", "-1"])
def test_a_member_id_that_cannot_name_a_row_is_refused_in_japanese(form_class, value):
    """Failing example of test_every_form_refuses_arbitrary_input_in_japanese[MoveOutForm]:
    {'residents': ['0', '999999999999999999999999999999']} raised OverflowError (SQLite) instead of refusing."""
    head, _, _ = family()
    form = form_class({"residents": ["0", value]}, household=head.household)
    assert not form.is_valid()
    assert form.errors["residents"]
    assert all(is_japanese(str(m)) for m in form.errors["residents"])
