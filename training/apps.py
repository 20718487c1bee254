from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # Training due or overdue on each member's to-do list (the home).
        from soc2app.todo import register
        from training.todo import training_todos

        register("training", training_todos)
