"""``manage.py bench_reports``: the reports section of ``manage.py bench`` alone (it seeds its
data in a throwaway database, see ``soc2app.management.commands.bench``)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Time the Type 2 PDF of 300 controls and 10,000 evidence versions (throwaway database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--keepdb", action="store_true")

    def handle(self, *args, scale: float, keepdb: bool, **options) -> None:
        call_command("bench", only=["reports"], scale=scale, keepdb=keepdb)
