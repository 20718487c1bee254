from django.apps import AppConfig


class PeopleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "people"
    verbose_name = "People"

    def ready(self) -> None:
        # Joiners and leavers in an audit's window, offered as ready-made populations.
        from people.populations import register

        register()
        # Leavers past the retention period, on managers' to-do lists (the home).
        from people.todo import retention_todos
        from people.todo_checklists import checklist_todos
        from soc2app.todo import register as todo_register

        todo_register("people.retention", retention_todos)
        # Joiners' and leavers' checklist items each owner has to do (the home).
        todo_register("checklists", checklist_todos)
