from django.apps import AppConfig


class DialwhomProjectConfig(AppConfig):
    """The project package as an app: it registers the deployment checks."""

    name = "dialwhom_project"
    verbose_name = "dialwhom"

    def ready(self):
        from dialwhom_project import checks  # noqa: F401  (registers the checks)
