from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # What this app puts on members' to-do lists (the home page; ``soc2app.todo``).
        from reports.todo import request_todos
        from soc2app.todo import register

        register("reports", request_todos)

        # Items failed in sample testing join the readiness exceptions (see the module).
        from controls.readiness_providers import register_exception_provider
        from reports.readiness_exceptions import failed_sample_items

        register_exception_provider("reports.failed_sample_items", failed_sample_items)
