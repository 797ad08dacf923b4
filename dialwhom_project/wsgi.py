"""WSGI entry point for gunicorn: `gunicorn dialwhom_project.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dialwhom_project.settings")

application = get_wsgi_application()
