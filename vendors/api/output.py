"""The API's output of a vendor and of a vendor document: the serialized row with the status
the selectors computed. Shared by the vendor API and the auditor portal's API."""

from __future__ import annotations

from vendors import selectors
from vendors.api.serializers import VendorDocumentOut, VendorOut


def vendor_out(row: selectors.VendorRow) -> dict:
    vendor = row.vendor
    vendor.document_status = row.status
    vendor.review_overdue = row.review_overdue
    return VendorOut(vendor).data


def document_out(row: selectors.DocumentRow) -> dict:
    doc = row.document
    doc.valid_until, doc.status = row.valid_until, row.status
    return VendorDocumentOut(doc).data
