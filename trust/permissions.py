"""Who manages the trust center: owners and admins, signed in (what the page says speaks for
the organization, so no API key changes it). Reading its settings, documents and requests is
also open to admin keys (``TRUST_VIEW``): an admin key already manages connections'
credentials, and a key that reads the requests can feed a CRM or a ticket queue."""

from tenants.permissions import Action

MANAGE = Action.ORG_MANAGE
READ = Action.TRUST_VIEW
