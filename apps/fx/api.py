"""/api/v1/fx-rates: an organization's FX rates. Everyone in the organization reads them (an employee
sees what a spend abroad will be converted at); finance managers and org admins add them, by hand or
from the ECB's reference rates file."""

import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import CurrencyField, QueryFilters, StrictCharField
from ledgerx.money import rate_text
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors, services
from .models import FxRate

_RATE_PATTERN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?")


class FxRateInput(serializers.Serializer):
    currency = CurrencyField(help_text="The currency quoted, not the organization's base currency.")
    date = serializers.DateField(help_text="The day the rate is for, in the organization's timezone.")
    rate = StrictCharField(
        trim_whitespace=False,
        max_length=25,
        help_text="Base currency units per one unit of `currency`, as a decimal string such as \"0.92\".",
    )

    def validate_rate(self, value: str) -> Decimal:
        if not _RATE_PATTERN.fullmatch(value):
            raise serializers.ValidationError("A decimal string such as \"0.92\": at most 12 places.")
        return Decimal(value)


class FxRateFilters(QueryFilters):
    currency = CurrencyField(required=False)
    since = serializers.DateField(required=False, help_text="Rates for this day or later.")
    until = serializers.DateField(required=False, help_text="Rates for this day or earlier.")


class FxEcbImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="eurofxref.csv, eurofxref-hist-90d.csv or another file of that layout.")


def rate_representation(rate: FxRate) -> dict:
    return {
        "id": rate.id,
        "currency": rate.currency,
        "date": rate.rate_date.isoformat(),
        "rate": rate_text(rate.rate),
        "source": rate.source,
        "source_checksum": rate.source_checksum or None,
        "entered_by": rate.entered_by.email if rate.entered_by else None,
        "created_at": rate.created_at.isoformat(),
    }


class FxRateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    currency = serializers.CharField()
    date = serializers.DateField()
    rate = serializers.CharField(help_text="Base currency units per one unit of `currency`.")
    source = serializers.ChoiceField(choices=FxRate.Source.choices)
    source_checksum = serializers.CharField(allow_null=True, help_text="SHA-256 of the ECB file it came from.")
    entered_by = serializers.EmailField(allow_null=True)
    created_at = serializers.DateTimeField()


class FxEcbImportOutput(serializers.Serializer):
    checksum = serializers.CharField(help_text="SHA-256 of the file.")
    added = serializers.IntegerField(help_text="Rates added.")
    unchanged = serializers.IntegerField(help_text="Rates equal to the one already in force for their day.")
    currencies = serializers.ListField(child=serializers.CharField())
    first_date = serializers.DateField()
    last_date = serializers.DateField()


class FxRateListCreateApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "POST": FINANCE_ROLES}
    filters_class = FxRateFilters
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="fx_rates_list",
        parameters=[FxRateFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("FxRatePage", FxRateOutput), **error_responses(400)},
        description="Every rate entered, corrections included, newest entry first; the newest entry of a "
        "currency and day is that day's rate.",
    )
    def get(self, request):
        filters = self.filters
        rates = selectors.fx_rates(
            organization=self.organization,
            currency=filters.get("currency"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
        return self.paginated(rates, rate_representation)

    @extend_schema(
        operation_id="fx_rates_create",
        request=FxRateInput,
        responses={201: FxRateOutput, **error_responses(400)},
        description="Set a currency's rate for a day; a rate set before for that day stays in the history.",
    )
    def post(self, request):
        data = validated(FxRateInput, request.data)
        rate = services.fx_rate_set(
            actor=request.user,
            organization=self.organization,
            currency=data["currency"],
            rate_date=data["date"],
            rate=data["rate"],
        )
        return Response(rate_representation(rate), status=status.HTTP_201_CREATED)


class FxRateDetailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(operation_id="fx_rates_retrieve", responses={200: FxRateOutput, **error_responses(404)})
    def get(self, request, rate_id):
        return Response(rate_representation(self.get_scoped(FxRate.objects, rate_id)))


class FxEcbImportApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="fx_rates_ecb_import",
        request={"multipart/form-data": FxEcbImportInput},
        responses={201: FxEcbImportOutput, **error_responses(400)},
        description="Import the ECB's euro reference rates file (multipart, field `file`), as cross rates "
        "against the organization's base currency. A malformed file imports nothing.",
    )
    def post(self, request):
        data = validated(FxEcbImportInput, request.data)
        upload = data["file"]
        try:
            content = upload.read()
        finally:
            upload.close()
        if not content:
            raise InvalidInput("The file is empty.", fields={"file": ["Empty."]})
        result = services.fx_ecb_import(actor=request.user, organization=self.organization, content=content)
        return Response(
            {
                "checksum": result.checksum,
                "added": result.added,
                "unchanged": result.unchanged,
                "currencies": result.currencies,
                "first_date": result.first_date.isoformat(),
                "last_date": result.last_date.isoformat(),
            },
            status=status.HTTP_201_CREATED,
        )
