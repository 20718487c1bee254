"""The API side of the table exports (``reports.tabular``): the ``format`` parameter and the
responses an ``export`` action documents. An export action sets
``content_negotiation_class=AnyAccept``: ``?format=`` names the file, not a DRF renderer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from reports.tabular import CONTENT_TYPES, CSV, FORMATS, export_format
from soc2app.errors import ValidationFailed

FORMAT_PARAM = OpenApiParameter(
    "format", str, enum=list(FORMATS), description="csv (the default) or xlsx."
)
EXPORT_RESPONSES = {
    (200, content_type.split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY)
    for content_type in CONTENT_TYPES.values()
}


def requested_format(raw: object) -> str:
    """``csv`` when none is given; anything but csv or xlsx is a 400."""
    if raw in (None, ""):
        return CSV
    fmt = export_format(raw)
    if fmt is None:
        raise ValidationFailed("format must be csv or xlsx.", field="format")
    return fmt
