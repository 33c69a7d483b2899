"""`.visible_to(user)` on every model that shows a person: the queryset side of the one rule in audit.visibility.

A model declares where its person is (`person_paths`: "" for a 住民票 or 附票 row itself, "resident__" for a row
that carries one); `visible_to(user)` keeps the rows whose persons this user may see unmasked, `masked_for(user)`
the others. Pages that must show a restricted person as a row (a 世帯 list) use `masked_for` / `audit.visibility
.may_see` and print 「閲覧制限のある方」 with no name, カナ, 生年月日, code or address.
"""

from django.apps import apps
from django.db import models
from django.db.models import Q

from audit.visibility import granted_ids, visible_q


class VisibleToQuerySet(models.QuerySet):
    # (path, "app_label.Model") of every person a row shows; set per model with `for_persons(...)`.
    person_paths: tuple[tuple[str, str], ...] = (("", ""),)
    masked_through: tuple[tuple[str, str], ...] = ()

    def _visible_q(self, user) -> Q:
        condition = Q()
        for path, label in self.person_paths:
            model = apps.get_model(label) if label else self.model
            part = visible_q(user, model, path)
            if path:  # a row without that person (a null link) shows nobody through it
                part |= Q(**{f"{path.removesuffix('__')}__isnull": True})
            condition &= part
        return condition

    def visible_to(self, user):
        """The rows whose persons `user` may see unmasked."""
        return self.filter(self._visible_q(user))

    def masked_for(self, user):
        """The rows that show a person restricted for `user` (to be printed masked, if at all)."""
        if self.person_paths == (("", ""),):  # the person rows themselves: the partial index of restricted rows
            granted = granted_ids(user, self.model)
            restricted = self.filter(access_restricted=True)
            return restricted.exclude(pk__in=granted) if granted else restricted
        return self.exclude(self._visible_q(user))

    def _masked_related(self, user) -> Q:
        """Rows that carry a masked person through a many-valued relation (e.g. the persons of a 戸籍届出)."""
        condition = Q(pk__in=[])
        for path, label in self.masked_through:
            related = apps.get_model(label).objects.masked_for(user)
            condition |= Q(**{f"{path}__in": related})
        return condition


class VisibleThroughQuerySet(VisibleToQuerySet):
    """Also hides rows that carry a masked person through a many-valued relation (`masked_through`: (path from
    this model to the related rows, "app_label.Model" of those rows))."""

    def visible_to(self, user):
        return super().visible_to(user).exclude(self._masked_related(user))

    def masked_for(self, user):
        return self.exclude(pk__in=self.visible_to(user).values("pk"))


def for_persons(*paths: tuple[str, str], through: tuple[tuple[str, str], ...] = ()) -> type[VisibleToQuerySet]:
    """A VisibleToQuerySet for a model whose rows carry persons at these (path, "app_label.Model") places, and
    through these many-valued relations."""
    if through:
        return type(
            "VisibleThroughQuerySet",
            (VisibleThroughQuerySet,),
            {"person_paths": tuple(paths), "masked_through": through},
        )
    return type("VisibleToQuerySet", (VisibleToQuerySet,), {"person_paths": tuple(paths)})
