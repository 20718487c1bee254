from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        # Open findings on their owners' to-do lists (the home page; ``soc2app.todo``).
        from monitoring.todo import monitoring_todos
        from soc2app.todo import register

        register("monitoring", monitoring_todos)

        # The overdue findings sweep (a Celery task, ``soc2app.schedule``) and monitoring's
        # part of the owners' daily digest (``evidence.notifications``).
        from evidence.notifications import register_digest_section
        from monitoring import digest, events  # noqa: F401

        register_digest_section(digest.SECTION)
