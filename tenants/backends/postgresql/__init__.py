"""Django's PostgreSQL backend, told when a rollback may have undone the row-level security
settings (``tenants.rls``). ``settings.DATABASES`` uses it for every PostgreSQL URL."""
