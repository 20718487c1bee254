from django.apps import AppConfig


class PeopleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "people"
    verbose_name = "People"

    def ready(self) -> None:
        # Joiners and leavers in an audit's window, offered as ready-made populations.
        from people.populations import register
        from people.todo import checklist_todos
        from soc2app.todo import register as register_todo

        register()
        # Joiners' and leavers' checklist items each owner has to do (the home).
        register_todo("checklists", checklist_todos)
