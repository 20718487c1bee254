from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # Items failed in sample testing join the readiness exceptions (see the module).
        from controls.readiness_providers import register_exception_provider
        from reports.readiness_exceptions import failed_sample_items

        register_exception_provider("reports.failed_sample_items", failed_sample_items)
