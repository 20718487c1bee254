"""allauth's MFA adapter with its secrets encrypted at rest (``settings.MFA_ADAPTER``).

allauth passes every secret it stores in ``Authenticator.data`` through ``encrypt``/``decrypt``
(65.x: the TOTP ``secret``, the recovery codes' ``seed`` and any ``migrated_codes``), so the
database holds only ``soc2app.crypto`` ciphertext. Rows written before encryption was on are
read as they are until the data migration (``soc2app.reencrypt``) has encrypted them.
"""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from soc2app import crypto


class EncryptingMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        # A missing key is a DecryptionError (503 with a message), not a failed code: the user
        # must not be told their authenticator code is wrong when the server lacks its key.
        return crypto.decrypt(encrypted_text, what="Your two-factor authentication secret")
