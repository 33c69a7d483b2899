"""The test personas' accounts (the fixtures are in the root conftest.py): users in one of the four roles of
common/roles.py, with one password every test can log in with."""

PASSWORD = "pass-for-tests-only-42"  # noqa: S105 - throwaway password of test users


def persona(username: str, role=None, **extra):
    """A user in `role` (a common.roles.Role, or None for no role), fresh from the database (no cached permissions)."""
    from django.contrib.auth import get_user_model

    from common.roles import assign_role, ensure_roles

    user_model = get_user_model()
    user = user_model.objects.create_user(username=username, password=PASSWORD, **extra)
    if role is not None:
        assign_role(user, role, ensure_roles())
    return user_model.objects.get(pk=user.pk)
