from django.apps import AppConfig


class RisksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "risks"
    verbose_name = "Risks"

    def ready(self) -> None:
        # Expired acceptances and overdue reviews on the risk owner's to-do list (the home).
        from risks.todo import risk_todos
        from soc2app.todo import register

        register("risks", risk_todos)
