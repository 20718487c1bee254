from django.apps import AppConfig


class SsoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        # The sign-in page's domain lookup crosses organizations: create_app_role grants it.
        from sso.lookups import FUNCTION, SPEC
        from tenants.lookups import register_function

        register_function(FUNCTION, *SPEC)
