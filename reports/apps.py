from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # What this app puts on members' to-do lists (the home page; ``soc2app.todo``).
        from reports.todo import request_todos
        from soc2app.todo import register

        register("reports", request_todos)
