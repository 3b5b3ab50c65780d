from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import TENANT_ROLES
from ledgerx.fields import StrictCharField
from ledgerx.schema import error_responses

from . import selectors
from .parsing import SOURCES
from .spec import DIRECTIONS, MAX_LIMIT, ORDER_BYS, GroupBy, Metric

MAX_QUESTION_LENGTH = 500


class QueryInput(serializers.Serializer):
    q = StrictCharField(max_length=MAX_QUESTION_LENGTH)


# The shape of selectors.query_answer, for the OpenAPI schema.


class _PeriodOutput(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateField(allow_null=True, help_text="First local day; null for all time.")
    end = serializers.DateField(allow_null=True, help_text="Last local day, inclusive.")
    timezone = serializers.CharField()


class _OrderOutput(serializers.Serializer):
    by = serializers.ChoiceField(choices=ORDER_BYS)
    direction = serializers.ChoiceField(choices=DIRECTIONS)


class _InterpretationOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=[m.value for m in Metric])
    group_by = serializers.ChoiceField(choices=[g.value for g in GroupBy], allow_null=True)
    filters = serializers.DictField(child=serializers.JSONField(), help_text="Only the filters the question set.")
    period = _PeriodOutput()
    order = _OrderOutput(allow_null=True)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, allow_null=True)
    currency = serializers.CharField()
    summary = serializers.CharField(help_text="The interpretation in a sentence.")


class _ChartOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["line", "bar"])
    labels = serializers.ListField(child=serializers.CharField())
    values = serializers.ListField(child=serializers.JSONField(allow_null=True))
    unit = serializers.ChoiceField(choices=["money", "count", "percent"])


class _AnswerOutput(serializers.Serializer):
    sentence = serializers.CharField(help_text="What was computed and its result, in one sentence.")
    headers = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The table for people: money, dates and labels written out, no ids.",
    )
    value = serializers.CharField(allow_null=True, help_text="The formatted number of a one-number answer.")
    empty = serializers.CharField(allow_null=True, help_text="Words for an answer with no rows.")
    chart = _ChartOutput(allow_null=True, help_text="A series or a breakdown to draw; null otherwise.")


class QueryAnswerOutput(serializers.Serializer):
    interpretation = _InterpretationOutput()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(allow_null=True)),
        help_text="One list per row, in the order of `columns`; money as decimal strings.",
    )
    answer = _AnswerOutput()
    source = serializers.ChoiceField(choices=SOURCES, help_text="Which parser mapped the question.")
    cached = serializers.BooleanField()


class QueryApi(TenantAPIView):
    """POST {"q": "..."}: finance and admins ask about the organization, employees about their own spend."""

    allowed_roles = TENANT_ROLES

    @extend_schema(
        operation_id="query",
        request=QueryInput,
        responses={200: QueryAnswerOutput, **error_responses(400)},
        description="A question in plain language, answered over what you may see. A question it cannot map "
        "answers 400 (`question_not_understood`) with what it understood and examples in `fields`; a name "
        "the organization does not have answers 400 (`unknown_value`) with the closest it has. Fraud alerts "
        "are for finance managers and org admins (403); an employee naming a department or person whose "
        "spend she cannot see is told so (403).",
    )
    def post(self, request):
        data = validated(QueryInput, request.data)
        return Response(selectors.query_answer(user=request.user, question=data["q"]))
