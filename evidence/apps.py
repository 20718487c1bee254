from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"

    def ready(self) -> None:
        # What this app puts on members' to-do lists (the home page; ``soc2app.todo``).
        from evidence.todo import evidence_todos
        from soc2app.todo import register

        register("evidence", evidence_todos)
