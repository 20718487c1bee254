from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        # Open findings on their owners' to-do lists (the home page; ``soc2app.todo``).
        from monitoring.todo import monitoring_todos
        from soc2app.todo import register

        register("monitoring", monitoring_todos)
