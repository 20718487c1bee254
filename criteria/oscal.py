"""The catalog as an OSCAL catalog (groups = categories, controls = criteria,
parts = statement and points of focus, crosswalks as namespaced properties)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from criteria.models import Framework
from criteria.selectors import catalog_tree, criteria_list

OSCAL_VERSION = "1.2.1"  # the version compliance-trestle's models implement
NAMESPACE = "https://soc2app.invalid/ns/oscal"
_UUID_NS = uuid.UUID("6f1f3a52-51a4-4f7e-9a43-2b1f4c9d2f10")


def oscal_id(text: str) -> str:
    """An OSCAL token: letters, digits, '.', '-', '_' and starting with a letter."""
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in text.lower())


def catalog_to_oscal(framework: Framework) -> dict[str, Any]:
    criteria = {c.pk: c for c in criteria_list(framework)}
    groups = []
    for category in catalog_tree(framework):
        controls = []
        for series in category.series.all():
            for stub in series.criteria.all():
                controls.append(_control(criteria[stub.pk], series_key=series.key))
        groups.append(
            {
                "id": oscal_id(category.key),
                "class": "category",
                "title": category.name,
                "props": [
                    {
                        "name": "always-in-scope",
                        "ns": NAMESPACE,
                        "value": str(category.always_in_scope).lower(),
                    }
                ],
                "parts": [
                    {
                        "id": f"{oscal_id(category.key)}_ovw",
                        "name": "overview",
                        "prose": category.description,
                    }
                ],
                "controls": controls,
            }
        )
    return {
        "catalog": {
            "uuid": str(uuid.uuid5(_UUID_NS, f"{framework.key}:{framework.version}")),
            "metadata": {
                "title": f"{framework.name} {framework.version}",
                "last-modified": framework.loaded_at.astimezone(dt.UTC).isoformat(),
                "version": framework.version,
                "oscal-version": OSCAL_VERSION,
                "remarks": "Titles, descriptions and points of focus are paraphrases, not AICPA text.",
            },
            "groups": groups,
        }
    }


def _control(criterion: Any, *, series_key: str) -> dict[str, Any]:
    cid = oscal_id(criterion.ref)
    props = [
        {"name": "label", "value": criterion.ref},
        {"name": "series", "ns": NAMESPACE, "value": series_key},
    ]
    if criterion.coso_principle:
        props.append(
            {"name": "coso-principle", "ns": NAMESPACE, "value": str(criterion.coso_principle)}
        )
    for mapping in criterion.crosswalks.all():
        props.append(
            {
                "name": "crosswalk",
                "ns": NAMESPACE,
                "class": oscal_id(mapping.reference.framework.key),
                "value": mapping.reference.ref_id,
            }
        )
    parts = [{"id": f"{cid}_smt", "name": "statement", "prose": criterion.description}]
    points = list(criterion.points_of_focus.all())
    if points:
        parts.append(
            {
                "id": f"{cid}_pof",
                "name": "points-of-focus",
                "ns": NAMESPACE,
                "parts": [
                    {
                        "id": f"{cid}_pof.{p.position}",
                        "name": "point-of-focus",
                        "ns": NAMESPACE,
                        "prose": p.text,
                    }
                    for p in points
                ],
            }
        )
    return {
        "id": cid,
        "class": "criterion",
        "title": criterion.title,
        "props": props,
        "parts": parts,
    }
