from django.apps import AppConfig


class ScimConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scim"
    verbose_name = "SCIM provisioning"

    def ready(self) -> None:
        # A SCIM token is withdrawn with its creator's API keys: when the owner who created it
        # is removed, deactivated or is no longer an owner (``tenants.services_members``).
        from scim.models import ScimToken
        from tenants.permissions import Action
        from tenants.selectors import created_credential_register

        created_credential_register(ScimToken, Action.SCIM_MANAGE)
