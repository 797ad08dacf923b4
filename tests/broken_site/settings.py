"""The real settings, with the URLs of `tests.broken_site.urls`.

For tests that run gunicorn and need a server error on a path carrying the
webhook token: DJANGO_SETTINGS_MODULE=tests.broken_site.settings.
"""

from dialwhom_project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.broken_site.urls"
