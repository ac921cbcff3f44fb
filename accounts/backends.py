"""Sign-in and permissions: Django's ModelBackend, reading permissions in one query."""

from django.contrib.auth import backends
from django.contrib.auth.models import Permission
from django.db.models import Q


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend, reading a user's permissions (their own and their groups') at once.

    Django reads them in two queries, on every request of a user who is not a
    superuser; one is enough.  What it returns, and where it is kept for the
    request (``user._perm_cache``), are Django's.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser or hasattr(user_obj, "_perm_cache"):
            return super().get_all_permissions(user_obj, obj)
        own = self._get_user_permissions(user_obj).values("pk")
        of_groups = self._get_group_permissions(user_obj).values("pk")
        permissions = (
            Permission.objects.filter(Q(pk__in=own) | Q(pk__in=of_groups))
            .values_list("content_type__app_label", "codename")
            .order_by()
        )
        user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in permissions}
        return user_obj._perm_cache
