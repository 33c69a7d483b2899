"""`.visible_to(user)` on every model that shows a person: the queryset side of the one rule in audit.visibility.

A model declares where its person is (`person_paths`: "" for a 住民票 or 附票 row itself, "resident__" for a row
that carries one); `visible_to(user)` keeps the rows whose persons this user may see unmasked, `masked_for(user)`
the others. Pages that must show a restricted person as a row (a 世帯 list) use `masked_for` / `audit.visibility
.may_see` and print 「閲覧制限のある方」 with no name, カナ, 生年月日, code or address.
"""

from django.apps import apps
from django.db import models
from django.db.models import Q


class VisibleToQuerySet(models.QuerySet):
    # (path, "app_label.Model") of every person a row shows; set per model with `for_persons(...)`.
    person_paths: tuple[tuple[str, str], ...] = (("", ""),)

    def _visible_q(self, user) -> Q:
        from audit.visibility import visible_q

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
        return self.exclude(self._visible_q(user))


def for_persons(*paths: tuple[str, str]) -> type[VisibleToQuerySet]:
    """A VisibleToQuerySet for a model whose rows carry persons at these (path, "app_label.Model") places."""
    return type("VisibleToQuerySet", (VisibleToQuerySet,), {"person_paths": tuple(paths)})
