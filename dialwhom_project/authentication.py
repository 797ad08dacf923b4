"""The admin login's lockout (django-axes) as an authentication backend."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuse logins for locked-out username and address pairs.

    Axes needs the request to know the address; a login without one (a shell, a
    test client's `login()`) comes from no network address and is not checked.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
