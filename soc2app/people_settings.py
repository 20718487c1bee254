"""Settings of the people-facing e-mails and pages: policy acceptance links, training, and
the retention of leavers' personal data.
Every variable is documented in README.md."""

from __future__ import annotations

from soc2app.env import env_int

# Policy acceptance links (policies/acceptance.py, policies/links.py): days a personal link works, and requests
# per client address per ten minutes on the public acceptance pages.
POLICY_LINK_DAYS = env_int("POLICY_LINK_DAYS", 30, minimum=1)
POLICY_LINK_RATE_PER_IP = env_int("POLICY_LINK_RATE_PER_IP", 60, minimum=1)
# A reminder goes to whoever has not accepted this many days after the last e-mail (at most 3).
POLICY_REMINDER_DAYS = env_int("POLICY_REMINDER_DAYS", 7, minimum=1)
# Training (training/): days a personal training link works, days before a due date the link
# is e-mailed, and the largest certificate accepted (reminders follow POLICY_REMINDER_DAYS).
TRAINING_LINK_DAYS = env_int("TRAINING_LINK_DAYS", 30, minimum=1)
TRAINING_LEAD_DAYS = env_int("TRAINING_LEAD_DAYS", 14, minimum=0)
TRAINING_CERTIFICATE_MAX_BYTES = env_int("TRAINING_CERTIFICATE_MAX_MB", 10, minimum=1) * 1024 * 1024
# Retention of a leaver's personal data (people/anonymise.py): a manager may anonymise a person
# once this many days have passed since their last day (the to-do lists who is due).
PERSON_RETENTION_DAYS = env_int("PERSON_RETENTION_DAYS", 730, minimum=1)
# The public trust center (trust/): how long a rendered page is cached (states from the
# readiness engine are at most this old; any settings change shows at once), page views and
# document requests per client address per minute and per ten minutes, and personal links.
TRUST_CACHE_SECONDS = env_int("TRUST_CACHE_SECONDS", 300, minimum=0)
TRUST_RATE_PER_IP = env_int("TRUST_RATE_PER_IP", 120, minimum=1)
TRUST_REQUEST_RATE_PER_IP = env_int("TRUST_REQUEST_RATE_PER_IP", 10, minimum=1)
TRUST_LINK_DAYS = env_int("TRUST_LINK_DAYS", 7, minimum=1)
TRUST_LINK_MAX_DOWNLOADS = env_int("TRUST_LINK_MAX_DOWNLOADS", 3, minimum=1)
TRUST_DOCUMENT_MAX_BYTES = env_int("TRUST_DOCUMENT_MAX_MB", 25, minimum=1) * 1024 * 1024
