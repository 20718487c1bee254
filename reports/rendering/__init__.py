"""Rendering of reports: PDF (WeasyPrint), CSV, XLSX and the evidence package."""

import logging

# WeasyPrint narrates every step (even at import) at INFO; only its warnings matter here.
# Set before any module of this package imports WeasyPrint.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
