"""Who manages the trust center: owners and admins (what they publish speaks for the
organization), never an API key."""

from tenants.permissions import Action

MANAGE = Action.ORG_MANAGE
