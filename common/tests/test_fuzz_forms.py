"""Every Django form class of the project's apps, found by importing their modules (a new form is covered without
editing this file), bound to arbitrary data in every field: `is_valid()` never raises, and every error it reports
is a Japanese sentence for the clerk.

Forms whose constructor needs records (a 世帯, a 住民票, the allowed actions …) get them from a small world of dummy
records by the parameter's name (CONSTRUCTOR_ARGUMENTS); a form with an unknown required parameter fails here until
it is named there."""

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from hypothesis import given, settings
from hypothesis import strategies as st

from .fuzz_support import FUZZ, error_messages, form_data, is_japanese

PER_FORM = settings(FUZZ, max_examples=30)  # about fifty forms

pytestmark = pytest.mark.django_db

APPS = ("common", "registry", "koseki_fuhyo", "transfers", "audit", "accounts")
SKIPPED_PACKAGES = (".tests", ".migrations", ".management")


def _project_modules():
    for app in APPS:
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if any(part in info.name for part in SKIPPED_PACKAGES):
                continue
            yield importlib.import_module(info.name)


def form_classes() -> list[type[forms.BaseForm]]:
    found = {}
    for module in _project_modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, forms.BaseForm)
                and obj.__module__ == module.__name__
                and not obj.__name__.startswith("_")
                and obj.__module__.split(".")[0] in APPS
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[key] for key in sorted(found)]


FORMS = form_classes()


def test_the_discovery_finds_the_forms_of_every_app():
    names = {f.__name__ for f in FORMS}
    assert {"PersonForm", "MoveWithinForm", "RestrictForm", "ResolveForm", "UserCreateForm", "MarriageForm"} <= names
    assert len(FORMS) >= 30


class World:
    """The records a form's constructor may ask for."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from koseki_fuhyo.tests.factories import KosekiFactory, link_to_koseki
        from registry.tests.change_screens import family
        from transfers.views.display import INBOX_ACTIONS

        self.head, self.wife, self.child = family()
        self.household = self.head.household
        self.koseki = KosekiFactory()
        self.entry = link_to_koseki(self.head, self.koseki)
        self.actor = get_user_model().objects.create_user(username="fuzz-actor", password="pass-for-tests-only")
        get_user_model().objects.create_user(username="fuzz-other", password="pass-for-tests-only")
        self.allowed = list(INBOX_ACTIONS)

    def values(self, form_class) -> dict:
        from transfers.models import InboundNotice

        return {
            "household": self.household,
            "members": [self.head, self.wife, self.child],
            "resident": self.head,
            "subject_resident": self.head,
            "koseki": self.koseki,
            "kind": _filing_kind(form_class),
            "actor": self.actor,
            "records": [self.head, self.entry],
            "allowed": self.allowed,
            "inbound": InboundNotice(kind="juminhyo_items", sender="131130"),
            "commands": ["purge_expired", "backup"],
        }


def _filing_kind(form_class) -> str:
    """A 届出事件 whose screen uses this form (the kind only changes labels and defaults)."""
    from koseki_fuhyo.choices import FilingKind
    from koseki_fuhyo.filing_urls import urlpatterns

    for pattern in urlpatterns:
        kind = pattern.default_args.get("kind")
        closure = inspect.getclosurevars(pattern.callback).nonlocals if kind else {}
        flow = closure.get("flow_class")
        if flow is not None and getattr(flow, "form_class", None) is form_class:
            return kind
    return FilingKind.values[0]


def keyword_parameters(form_class) -> dict[str, bool]:
    """Keyword-only parameters of the project's constructors in the form's chain: name → whether it is required."""
    found: dict[str, bool] = {}
    own = [k for k in form_class.__mro__ if "__init__" in k.__dict__ and k.__module__.split(".")[0] in APPS]
    inits = [k.__dict__["__init__"] for k in own]
    for depth, init in enumerate(inits):
        for parameter in inspect.signature(init).parameters.values():
            required = parameter.default is parameter.empty
            # Optional keywords only of the constructor called first: a subclass may fill its parent's itself.
            if parameter.kind is parameter.KEYWORD_ONLY and (required or depth == 0):
                found[parameter.name] = found.get(parameter.name, False) or required
    return found


def build(form_class, world: World, data):
    """The form as its view builds it: every required keyword from the world, optional ones where the world has
    them (a 世帯's members, the inbound notice); a required one the world lacks fails the test."""
    values = world.values(form_class)
    kwargs = {}
    for name, required in keyword_parameters(form_class).items():
        if name in values:
            kwargs[name] = values[name]
        elif required:
            pytest.fail(f"{form_class.__name__} needs `{name}`: add it to World.values")
    return form_class(data, **kwargs)


def _field_choices(form) -> dict[str, list[str]]:
    out = {}
    for name, field in form.fields.items():
        choices = getattr(field, "choices", None)
        if choices is not None:
            try:
                out[name] = [str(value) for value, _ in choices if value != ""][:20]
            except (TypeError, ValueError):
                continue
    return out


@pytest.fixture
def world():
    return World()


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_form_refuses_arbitrary_input_in_japanese(form_class, world):
    blank = build(form_class, world, None)
    fields, choices = list(blank.fields), _field_choices(blank)

    @PER_FORM
    @given(data=form_data(fields, choices=choices))
    def check(data):
        form = build(form_class, world, data)
        valid = form.is_valid()  # must not raise
        if not valid:
            messages = error_messages(form)
            assert messages, f"{form_class.__name__}: invalid without a message"
            assert all(is_japanese(m) for m in messages), f"{form_class.__name__}: {messages}"

    check()


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_form_refuses_an_empty_submission_or_accepts_it_quietly(form_class, world):
    for data in ({}, dict.fromkeys(build(form_class, world, None).fields, "")):
        form = build(form_class, world, data)
        if not form.is_valid():
            assert all(is_japanese(m) for m in error_messages(form)), error_messages(form)


@FUZZ
@given(data=st.data())
def test_person_formset_with_arbitrary_rows(data, world):
    """The 転入 form's persons (a formset, management form included): never raises, errors in Japanese."""
    from registry.forms.changes.base import PersonForm, PersonFormSet

    fields = [f"p-{i}-{name}" for i in range(3) for name in PersonForm.base_fields]
    management = ["p-TOTAL_FORMS", "p-INITIAL_FORMS", "p-MIN_NUM_FORMS", "p-MAX_NUM_FORMS"]
    formset = PersonFormSet(data.draw(form_data([*management, *fields])), prefix="p")
    if not formset.is_valid():
        messages = [str(m) for m in formset.non_form_errors()]
        messages += [m for form in formset.forms for m in error_messages(form)]
        assert all(is_japanese(m) for m in messages), messages
