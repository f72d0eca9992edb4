"""Who may call an endpoint: every API view picks exactly one of the access classes below.

- ``Public``: anyone may read; writing needs a signed-in shopper.
- ``Anyone``: anyone, for reads and writes (e.g. recording a share).
- ``Shopper``: a signed-in account.
- ``Staff``: a staff account whose Django permissions include the view's ``staff_permissions``
  (the same permissions the admin checks, so staff roles are the admin's groups).

On top of that, a request authenticated by a personal access token needs the token's scope:
``read`` for GET/HEAD/OPTIONS, ``write`` for other methods and ``staff`` for staff endpoints. A
session (the site's own scripts) carries every scope of its user.
"""

from rest_framework import permissions

from .models import PersonalAccessToken, Scope


def token_of(request) -> PersonalAccessToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, PersonalAccessToken) else None


def required_scopes(request, *, staff: bool) -> list[str]:
    scopes = [Scope.READ if request.method in permissions.SAFE_METHODS else Scope.WRITE]
    if staff:
        scopes.append(Scope.STAFF)
    return scopes


class _Access(permissions.BasePermission):
    staff = False
    message = "You are not allowed to do this."
    code = "permission_denied"

    def has_permission(self, request, view):
        token = token_of(request)
        if token is not None:
            missing = [
                s for s in required_scopes(request, staff=self.staff) if not token.has_scope(s)
            ]
            if missing:
                self.message = f"This token lacks the {', '.join(missing)} scope."
                self.code = "insufficient_scope"
                return False
        return self.allows(request, view)

    def allows(self, request, view) -> bool:  # pragma: no cover - each access class decides
        raise NotImplementedError


class Anyone(_Access):
    def allows(self, request, view):
        return True


class Public(_Access):
    def allows(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)


class Shopper(_Access):
    def allows(self, request, view):
        return bool(request.user and request.user.is_authenticated)


class Staff(_Access):
    staff = True

    def allows(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            self.message = "This is for staff accounts."
            return False
        needed = getattr(view, "staff_permissions", {})
        perms = (
            needed.get(request.method, needed.get("*", ())) if isinstance(needed, dict) else needed
        )
        if not user.has_perms(perms):
            self.message = "Your staff role does not allow this."
            return False
        return True


ACCESS_CLASSES = (Anyone, Public, Shopper, Staff)
