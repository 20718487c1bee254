"""The API side of every CSV import (``soc2app.csv_import``): one request shape (multipart
``file``, ``dry_run``) and one answer for a refused file (400, ``code`` ``import_rejected``,
the refused rows under ``errors.rows``)."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from soc2app.csv_import import MAX_ERRORS, Problems
from soc2app.errors import ValidationFailed
from soc2app.uploads import upload_problem


class ImportRowErrorOut(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line of the file (the header is row 1).")
    column = serializers.CharField()
    message = serializers.CharField()


def import_errors_field() -> ImportRowErrorOut:
    return ImportRowErrorOut(many=True, help_text=f"The first {MAX_ERRORS} problems.")


@dataclass(frozen=True)
class ImportUpload:
    data: bytes
    name: str
    dry_run: bool


def import_upload(
    request: Request, form: type[serializers.Serializer], max_bytes: int
) -> ImportUpload:
    """The uploaded file (read up to one byte over ``max_bytes``, so the importer can say it is
    too large) and whether this is a dry run (a form field or ``?dry_run=true``)."""
    if not request.content_type.startswith("multipart/"):
        raise ValidationFailed("Send the CSV as multipart/form-data in the field 'file'.")
    upload = request.data.get("file")
    if (problem := upload_problem(request)) is not None:
        raise problem
    data = form(data={k: v for k, v in request.data.items() if k != "file"} | {"file": upload})
    data.is_valid(raise_exception=True)
    dry_run = data.validated_data["dry_run"] or request.query_params.get("dry_run") == "true"
    raw = data.validated_data["file"].read(max_bytes + 1)
    return ImportUpload(data=raw, name=getattr(upload, "name", "") or "", dry_run=dry_run)


def import_response(plan: Problems, body: dict, *, dry_run: bool) -> Response:
    """200 with ``body`` for a dry run or an import done; else the API's one error shape."""
    if plan.ok or dry_run:
        return Response(body, status=status.HTTP_200_OK)
    rejected = {
        "detail": f"{plan.error_count} row(s) refused: nothing was imported.",
        "code": "import_rejected",
        "errors": {"rows": body["errors"]},
        "error_count": plan.error_count,
    }
    return Response(rejected, status=status.HTTP_400_BAD_REQUEST)
