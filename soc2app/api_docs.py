"""The interactive API docs (/api/docs/): Swagger UI with its set-up script served as a file
(``?script``), so the page runs under the site's Content-Security-Policy; behind sign-in when
``API_DOCS_LOGIN_REQUIRED`` (production). The schema itself (/api/schema/) stays public."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularSwaggerSplitView

_swagger = SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api_docs.html")


def api_docs(request: HttpRequest) -> HttpResponse:
    if settings.API_DOCS_LOGIN_REQUIRED and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger(request)
