from django.apps import AppConfig


class RoutingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"
    verbose_name = "Call routing"

    def ready(self):
        # The process's breaker tells the deadline's monitor to start probing,
        # and the metrics to show the outage.
        from routing import metrics
        from routing.outage import deadline

        deadline.watch_breaker()
        metrics.watch_breaker()
