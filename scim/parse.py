"""Reading what an identity provider sends into one flat set of changes.

``UserChanges`` keys: ``user_name`` (the e-mail address), ``given_name``, ``family_name``,
``external_id``, ``active``, ``role``, ``title``, ``department``. A POST or PUT body and every
PATCH shape IdPs send end up there:

* Okta: ``{"op": "replace", "value": {"active": false}}`` (no path, nested values);
* Entra ID: ``{"op": "Replace", "path": "active", "value": "False"}`` (capitalised op, a
  boolean as a string), ``{"op": "Add", "path": "emails[type eq \\"work\\"].value", ...}``,
  and path-less values with dotted keys (``{"name.givenName": "Ada"}``).

Attribute names are case-insensitive (RFC 7643 §2.1). Attributes of the core and enterprise
User schemas that we do not keep (``password``, ``locale``, ``phoneNumbers``...) are accepted
and ignored, so IdPs' default mappings work; anything else is refused (``invalidValue`` /
``invalidPath``), never silently dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from scim.protocol import ENTERPRISE, PATCH_OP, USER, ScimError
from scim.selectors import is_id
from tenants.models import Role

UserChanges = dict[str, Any]

# Core/enterprise attributes accepted and ignored. Never a password: sign-in is the app's.
IGNORED = frozenset(
    {
        "password", "locale", "preferredlanguage", "nickname", "profileurl", "timezone",
        "usertype", "phonenumbers", "addresses", "photos", "ims", "groups", "entitlements",
        "x509certificates", "meta", "id", "emails",
    }
)  # fmt: skip
ENTERPRISE_IGNORED = frozenset(
    {"employeenumber", "costcenter", "organization", "division", "manager"}
)
NAME_PARTS = {"givenname": "given_name", "familyname": "family_name", "formatted": None}
SIMPLE = {"username": "user_name", "externalid": "external_id", "title": "title"}
LIMITS = {"given_name": 150, "family_name": 150, "external_id": 255, "title": 200}
# displayName is derived from the name here; accepted, not stored.
DERIVED = frozenset({"displayname"})


def _bad(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad("The body is not valid JSON.", "invalidSyntax") from exc
    if not isinstance(data, dict):
        raise _bad("Send a JSON object.", "invalidSyntax")
    return data


def _string(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(f"{key} must be a string.")
    value = value.strip()
    limit = LIMITS.get(key)
    if limit and len(value) > limit:
        raise _bad(f"{key} is longer than {limit} characters.")
    return value


def _email(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad("userName must be the member's e-mail address.")
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise _bad(f"userName {value!r} is not an e-mail address.") from exc
    return value


def _active(value: Any) -> bool:
    # Entra ID sent booleans as "True"/"False" for years; both are accepted.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad("active must be true or false.")


def _role(value: Any) -> str | None:
    """The primary (or only) role of a ``roles`` value; None for an empty list."""
    if isinstance(value, dict | str):
        value = [value]
    if not isinstance(value, list):
        raise _bad("roles must be a list of {value} objects.")
    if not value:
        return None
    chosen = next(
        (r for r in value if isinstance(r, dict) and r.get("primary") in (True, "True", "true")),
        value[0],
    )
    role = chosen.get("value") if isinstance(chosen, dict) else chosen
    if role not in Role.values:
        raise _bad(f"Unknown role {role!r}: use contributor or compliance_manager.")
    return role


def _set(changes: UserChanges, attr: str, value: Any) -> None:
    """Record ``value`` for one attribute path (lower-case, dotted, no filter)."""
    if attr in SIMPLE:
        key = SIMPLE[attr]
        changes[key] = _email(value) if key == "user_name" else _string(value, key)
    elif attr == "active":
        changes["active"] = _active(value)
    elif attr == "roles":
        role = _role(value)
        if role is not None:
            changes["role"] = role
    elif attr == "name":
        if not isinstance(value, dict):
            raise _bad("name must be an object.")
        for sub, sub_value in value.items():
            _set(changes, f"name.{str(sub).lower()}", sub_value)
    elif attr.startswith("name.") and attr[5:] in NAME_PARTS:
        key = NAME_PARTS[attr[5:]]
        if key is not None:
            changes[key] = _string(value, key)
    elif attr == ENTERPRISE.lower():
        if not isinstance(value, dict):
            raise _bad(f"{ENTERPRISE} must be an object.")
        for sub, sub_value in value.items():
            _set(changes, f"{ENTERPRISE.lower()}:{str(sub).lower()}", sub_value)
    elif attr == f"{ENTERPRISE.lower()}:department":
        changes["department"] = _string(value, "department")[:120]
    elif (
        attr.startswith(f"{ENTERPRISE.lower()}:")
        and attr.split(":")[-1].split(".")[0] in ENTERPRISE_IGNORED
    ):
        return
    elif attr.split(".")[0] in IGNORED or attr in DERIVED:
        return
    else:
        raise _bad(f"Unknown attribute {attr!r}.", "invalidPath" if "." in attr else "invalidValue")


def user_from_body(data: dict[str, Any]) -> UserChanges:
    """A POST or PUT body: ``userName`` required, the rest optional."""
    schemas = data.get("schemas", [USER])
    if not isinstance(schemas, list) or USER not in schemas or set(schemas) - {USER, ENTERPRISE}:
        raise _bad(f"schemas must list {USER} (and optionally {ENTERPRISE}).")
    changes: UserChanges = {}
    for key, value in data.items():
        attr = str(key).lower()
        if attr in ("schemas", "meta"):
            continue
        _set(changes, attr, value)
    if "user_name" not in changes:
        raise _bad("userName (the member's e-mail address) is required.")
    return changes


# emails[type eq "work"].value, roles[primary eq "True"].value: the filter names the item.
_VALUE_PATH = re.compile(r"^(?P<attr>[a-z]+)\[[^\]]*\](?:\.(?P<sub>[a-z]+))?$")


def _patch_path(path: str) -> str:
    path = path.strip().lower()
    if path.startswith(USER.lower() + ":"):
        path = path[len(USER) + 1 :]
    match = _VALUE_PATH.match(path)
    if match:
        attr, sub = match["attr"], match["sub"]
        if attr == "roles" and sub in (None, "value"):
            return "roles"
        if attr in IGNORED:
            return attr
        raise _bad(f"Unsupported path {path!r}.", "invalidPath")
    return path


def user_from_patch(data: dict[str, Any]) -> UserChanges:
    schemas = data.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise _bad(f"schemas must be [{PATCH_OP!r}].", "invalidSyntax")
    operations = data.get("Operations", data.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise _bad("Operations must be a non-empty list.", "invalidSyntax")
    changes: UserChanges = {}
    for operation in operations:
        if not isinstance(operation, dict):
            raise _bad("Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        path = operation.get("path")
        value = operation.get("value")
        if op not in ("add", "replace", "remove"):
            raise _bad(
                f"Unknown op {operation.get('op')!r}: use add, replace or remove.", "invalidSyntax"
            )
        if path is not None and not isinstance(path, str):
            raise _bad("path must be a string.", "invalidPath")
        if op == "remove":
            if not path:
                raise _bad("remove needs a path.", "noTarget")
            attr = _patch_path(path)
            if attr in (
                "externalid",
                "title",
                "name.givenname",
                "name.familyname",
                f"{ENTERPRISE.lower()}:department",
            ):
                _set(changes, attr, "")
            elif attr in IGNORED or attr in DERIVED:
                continue
            else:
                raise _bad(f"{path} cannot be removed.", "mutability")
        elif path:
            _set(changes, _patch_path(path), value)
        else:
            if not isinstance(value, dict):
                raise _bad("An operation without a path needs an object value.", "invalidValue")
            for key, sub_value in value.items():
                _set(changes, _patch_path(str(key)), sub_value)
    return changes


# --- filter ---------------------------------------------------------------------------------
_CLAUSE = re.compile(
    r"\s*(?P<attr>[A-Za-z][\w.:]*(?:\[[^\]]*\])?(?:\.[A-Za-z]+)?)\s+(?P<op>[A-Za-z]{2})\s+"
    r'(?P<value>"(?:[^"\\]|\\.)*"|true|false)\s*(?P<join>\band\b|$)',
    re.IGNORECASE,
)


def filter_q(text: str) -> Q:
    """The ``eq`` filters IdPs send (``userName eq "a@b.c"``, ``externalId eq "..."``, joined by
    ``and``) as a ``Q`` over memberships; anything else is ``invalidFilter``."""
    q = Q()
    position = 0
    text = text.strip()
    while position < len(text):
        match = _CLAUSE.match(text, position)
        if match is None:
            raise _bad(f'Unsupported filter {text!r}: use attribute eq "value".', "invalidFilter")
        position = match.end()
        if match["op"].lower() != "eq":
            raise _bad(f"Only eq is supported, not {match['op']!r}.", "invalidFilter")
        value = json.loads(match["value"].lower() if match["value"][0] != '"' else match["value"])
        q &= _clause(match["attr"].lower(), value)
        if match["join"] and position >= len(text):
            raise _bad("The filter ends with “and”.", "invalidFilter")
    if not text:
        raise _bad("The filter is empty.", "invalidFilter")
    return q


def _clause(attr: str, value: Any) -> Q:
    if attr.startswith(USER.lower() + ":"):
        attr = attr[len(USER) + 1 :]
    if attr == "active":
        if not isinstance(value, bool):
            raise _bad("active compares with true or false.", "invalidFilter")
        return Q(scim_active=value)
    if not isinstance(value, str):
        raise _bad(f"{attr} compares with a string.", "invalidFilter")
    if attr in ("username", "emails.value") or re.fullmatch(r"emails\[[^\]]*\]\.value", attr):
        return Q(user__email__iexact=value.strip())
    if attr == "externalid":
        return Q(scim_link__external_id=value)
    if attr == "id":
        return Q(pk=int(value)) if is_id(value) else Q(pk__in=[])
    raise _bad(f"Filtering on {attr!r} is not supported.", "invalidFilter")
