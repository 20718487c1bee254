"""User accounts as allauth sees them (a user plus a verified e-mail address)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction


def user_ensure(
    *, email: str, password: str | None = None, verified: bool = True
) -> tuple[AbstractBaseUser, bool]:
    """The user with ``email`` (created if missing, with a primary address, verified unless
    ``verified`` is false: the caller has not seen the person prove it).

    ``password`` is set only on creation; without one the account must use password reset.
    """
    User = get_user_model()
    email = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User(username=email[:150], email=email)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": verified, "primary": True}
        )
    return user, created
