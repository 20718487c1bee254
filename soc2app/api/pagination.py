"""Page-number pagination for every list endpoint.

Asking for more rows per page than the limit is a 400 that names the limit, rather than a
silently shorter page: an integration that pages with ``page_size=1000`` learns at once that it
must loop. A ``page`` past the end or not a number is a 404 (DRF's "Invalid page.").
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if raw.isascii() and raw.isdigit() and (len(raw) > 6 or int(raw) > self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"Ask for at most {self.max_page_size} per page."]}
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters
