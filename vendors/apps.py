from django.apps import AppConfig


class VendorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vendors"
    verbose_name = "Vendors"

    def ready(self) -> None:
        # Stale vendor documents and overdue reviews on each owner's to-do list (the home).
        from soc2app.todo import register
        from vendors.todo import vendor_todos

        register("vendors", vendor_todos)

        # Dated news in the owners' daily digest (``evidence.notifications``).
        from evidence.notifications import register_digest_section
        from vendors import digest

        register_digest_section(digest.SECTION)
