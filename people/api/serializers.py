"""Input and output serializers of the roster API."""

from __future__ import annotations

from rest_framework import serializers

from people import imports
from people.models import EmploymentType, Person
from people.selectors import State
from soc2app.api.imports import import_errors_field
from soc2app.api.serializers import StrictInput

MAX_ID = 2**63 - 1


class PersonOut(serializers.ModelSerializer):
    manager = serializers.IntegerField(source="manager_id", allow_null=True, read_only=True)
    manager_email = serializers.SerializerMethodField()
    member = serializers.IntegerField(source="membership_id", allow_null=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "full_name",
            "email",
            "title",
            "department",
            "manager",
            "manager_email",
            "employment_type",
            "start_date",
            "end_date",
            "member",
            "created_at",
            "anonymised_at",
        ]
        read_only_fields = fields

    def get_manager_email(self, person: Person) -> str | None:
        return person.manager.email if person.manager_id else None


class PersonFilterIn(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=200, help_text="Name or e-mail contains.")
    department = serializers.CharField(required=False, max_length=120)
    employment_type = serializers.ChoiceField(choices=EmploymentType.choices, required=False)
    state = serializers.ChoiceField(
        choices=[c for c, _ in State.CHOICES if c],
        required=False,
        help_text="active (today), joiners (start date in from..to), leavers (end date in from..to).",
    )
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class _Relations(StrictInput):
    manager = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Id of a person of the roster, or null.",
    )
    member = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Id of a member of the organization using the app, or null.",
    )


class PersonIn(_Relations):
    full_name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    department = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    employment_type = serializers.ChoiceField(
        choices=EmploymentType.choices, required=False, default=EmploymentType.EMPLOYEE
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class PersonPatchIn(_Relations):
    full_name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    department = serializers.CharField(max_length=120, required=False, allow_blank=True)
    employment_type = serializers.ChoiceField(choices=EmploymentType.choices, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)


class PersonEndIn(StrictInput):
    end_date = serializers.DateField(help_text="The person's last day (YYYY-MM-DD).")


class PersonImportIn(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV, UTF-8, header: " + ", ".join(imports.COLUMNS) + "."
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Check the file and say what it would do."
    )


class PersonImportOut(serializers.Serializer):
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField(help_text="False when any row is refused: nothing was written.")
    sha256 = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = import_errors_field()
