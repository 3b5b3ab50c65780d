"""/api/v1/reports/dashboard: the finance dashboard of a month, for finance managers and org admins."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.fields import QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string
from ledgerx.months import month_parse, month_start, month_text
from ledgerx.schema import error_responses

from . import selectors
from .api import ReportOrganizationOutput
from .dashboard import Change, Dashboard
from .report import moment_text


class DashboardQuery(QueryFilters):
    month = StrictCharField(
        required=False,
        trim_whitespace=False,
        help_text="A calendar month that has begun, YYYY-MM, in the organization's timezone; this month by default.",
    )


def _change_representation(change: Change, currency: str) -> dict:
    return {
        "current": to_decimal_string(change.current_minor, currency),
        "previous": to_decimal_string(change.previous_minor, currency),
        "change": to_decimal_string(change.change_minor, currency),
        "change_percent": None if change.change_percent is None else str(change.change_percent),
    }


def dashboard_representation(board: Dashboard) -> dict:
    currency, timezone_name = board.organization.currency, board.organization.timezone
    comparison = board.comparison
    return {
        "organization": {"id": str(board.organization.id), "name": board.organization.name},
        "month": month_text(board.month),
        "timezone": timezone_name,
        "currency": currency,
        "as_of": moment_text(board.as_of, timezone_name),
        "days_in_month": board.days_in_month,
        "days_elapsed": board.days_elapsed,
        "month_over": board.month_over,
        "comparison": {
            "current": {
                "from": moment_text(comparison.current_start, timezone_name),
                "to": moment_text(comparison.current_end, timezone_name),
            },
            "previous": {
                "from": moment_text(comparison.previous_start, timezone_name),
                "to": moment_text(comparison.previous_end, timezone_name),
            },
            "total": _change_representation(comparison.total, currency),
            "departments": [
                {
                    "department": {"id": str(line.department.id), "name": line.label},
                    **_change_representation(line.change, currency),
                }
                for line in comparison.departments
            ],
            "categories": [
                {"category": line.label, **_change_representation(line.change, currency)}
                for line in comparison.categories
            ],
        },
        "months": [
            {"month": month_text(month), "spent": to_decimal_string(spent, currency)} for month, spent in board.months
        ],
        "burn_down": [
            {
                "department": {"id": str(line.department.id), "name": line.department.name},
                "depth": line.depth,
                "limit": to_decimal_string(line.limit_minor, currency),
                "spent": to_decimal_string(line.spent_minor, currency),
                "held": to_decimal_string(line.held_minor, currency),
                "pace_per_day": to_decimal_string(line.pace_minor_per_day, currency),
                "forecast": to_decimal_string(line.forecast_minor, currency),
                "over_forecast": line.over_forecast,
                "exhaustion_date": line.exhaustion_date.isoformat() if line.exhaustion_date else None,
                "exhausted": line.exhausted,
                "cumulative": [to_decimal_string(spent, currency) for spent in line.cumulative_minor],
            }
            for line in board.burn_down
        ],
    }


# The dashboard's shape, for the OpenAPI schema.


class DashboardSpanOutput(serializers.Serializer):
    def get_fields(self) -> dict:
        return {"from": serializers.DateTimeField(), "to": serializers.DateTimeField()}


class DashboardChangeOutput(serializers.Serializer):
    current = serializers.CharField(help_text="Spend in this month's stretch.")
    previous = serializers.CharField(help_text="Spend in last month's stretch as long.")
    change = serializers.CharField(help_text="current - previous; negative when less was spent.")
    change_percent = serializers.CharField(allow_null=True, help_text="To one decimal; null when previous is 0.")


class DashboardDepartmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class DashboardDepartmentChangeOutput(DashboardChangeOutput):
    department = DashboardDepartmentOutput()


class DashboardCategoryChangeOutput(DashboardChangeOutput):
    category = serializers.CharField()


class DashboardComparisonOutput(serializers.Serializer):
    current = DashboardSpanOutput()
    previous = DashboardSpanOutput()
    total = DashboardChangeOutput()
    departments = DashboardDepartmentChangeOutput(many=True, help_text="Spend booked to each department itself.")
    categories = DashboardCategoryChangeOutput(many=True)


class DashboardMonthOutput(serializers.Serializer):
    month = serializers.CharField()
    spent = serializers.CharField()


class DashboardBurnDownOutput(serializers.Serializer):
    department = DashboardDepartmentOutput()
    depth = serializers.IntegerField(help_text="0 for a top department.")
    limit = serializers.CharField()
    spent = serializers.CharField(help_text="Its sub-departments' spend included, as its limit counts.")
    held = serializers.CharField()
    pace_per_day = serializers.CharField(help_text="Spent over the days of the month begun, today included.")
    forecast = serializers.CharField(help_text="Spent at month end at that pace; what was spent once it is over.")
    over_forecast = serializers.BooleanField()
    exhaustion_date = serializers.DateField(
        allow_null=True, help_text="The day the limit was reached, or will be at this pace; null if it lasts."
    )
    exhausted = serializers.BooleanField(help_text="The limit was reached on exhaustion_date.")
    cumulative = serializers.ListField(child=serializers.CharField(), help_text="Spent by the end of each day so far.")


class DashboardOutput(serializers.Serializer):
    organization = ReportOrganizationOutput()
    month = serializers.CharField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    as_of = serializers.DateTimeField()
    days_in_month = serializers.IntegerField()
    days_elapsed = serializers.IntegerField()
    month_over = serializers.BooleanField()
    comparison = DashboardComparisonOutput()
    months = DashboardMonthOutput(many=True, help_text="The six months ending with this one.")
    burn_down = DashboardBurnDownOutput(many=True)


class DashboardApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = DashboardQuery

    @extend_schema(
        operation_id="reports_dashboard_retrieve",
        responses={200: DashboardOutput, **error_responses(400)},
        description="The finance dashboard of a month, in the organization's currency and timezone: spend this "
        "month against last month over as long a stretch (per department and category), six months of spend, "
        "and each department's budget burn-down with a forecast to month end from the pace so far.",
    )
    def get(self, request):
        text = self.filters.get("month")
        month = month_start(timezone.now(), self.organization.timezone) if text is None else month_parse(text)
        board = selectors.dashboard_of_month(organization=self.organization, month=month, viewer=request.user)
        return Response(dashboard_representation(board))
