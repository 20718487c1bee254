from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        # Policies to accept, approve and review on each member's to-do list (the home).
        from policies.todo import policy_todos
        from soc2app.todo import register

        register("policies", policy_todos)
