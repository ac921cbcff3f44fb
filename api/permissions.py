"""What a caller may do: the role's Django permissions and, for a partner system, its scopes.

Each view declares ``required_permissions`` per action (or a model to take
``app.view_model`` / ``add`` / ``change`` from), and ``write_scope``: the
scope an API client needs for unsafe methods.  Where: the querysets are
narrowed by ``accounts.scope`` in each view, as in the admin.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import ApiClient, ApiKey

_MODEL_ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change"}
_MODEL_ACTIONS["PATCH"] = "change"


def required_permissions(view, method: str) -> list[str]:
    """Return the permissions ``view`` asks for ``method`` (its action's, else its model's)."""
    declared = getattr(view, "required_permissions", None)
    action = getattr(view, "action", None)
    if declared is not None and action in declared:
        return declared[action]
    model = view.get_queryset().model
    return [
        f"{model._meta.app_label}.{_MODEL_ACTIONS.get(method, 'change')}_{model._meta.model_name}"
    ]


class RoleAndScopes(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(view, "action", "") is None:
            return True  # a method the view does not have: let it answer 405
        if isinstance(request.auth, ApiKey):
            client = request.auth.client
            needed = (
                ApiClient.Scope.READ
                if request.method in SAFE_METHODS
                else getattr(view, "write_scope", None)
            )
            if needed not in client.scopes:
                return False
        return user.has_perms(required_permissions(view, request.method))
