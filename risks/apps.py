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

        # Dated news in the owners' daily digest (``evidence.notifications``).
        from evidence.notifications import register_digest_section
        from risks import digest

        register_digest_section(digest.SECTION)
