from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        from tenants import mfa, rls  # noqa: F401 (mfa: its receiver of allauth's signal)

        # Once per ``migrate`` (sender: this app), after every app's migrations: tables added
        # later get their row-level security policies on the next migrate.
        post_migrate.connect(rls.on_post_migrate, sender=self, dispatch_uid="tenants.rls")
