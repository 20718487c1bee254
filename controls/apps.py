from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Controls, audits and readiness"

    def ready(self) -> None:
        # What this app puts on members' to-do lists (the home page; ``soc2app.todo``).
        from controls.todo import control_todos
        from soc2app.todo import register

        register("controls", control_todos)
