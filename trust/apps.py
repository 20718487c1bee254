from django.apps import AppConfig


class TrustConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "trust"
    verbose_name = "Trust center"

    def ready(self) -> None:
        from soc2app.todo import register
        from tenants.lookups import register_function
        from trust.lookups import ROUTE_COLUMNS, ROUTE_FUNCTION, ROUTE_WHERE
        from trust.todo import trust_todos

        # Requests for private documents waiting for an owner or admin (the home's to-do).
        register("trust", trust_todos)
        # The public pages find a published trust center by its slug or custom domain before
        # they know the organization: one narrow SECURITY DEFINER lookup (tenants.lookups).
        register_function(ROUTE_FUNCTION, ROUTE_COLUMNS, "public.trust_trustcenter", ROUTE_WHERE)
