"""What the OpenAPI schema needs beyond the views' own annotations: the token scheme, the error
shape of api.md, and the cursor pagination envelope. Imported by every api module.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.tenancy.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` or `Bearer <key>`, from POST /api/v1/auth/token.",
        }


class ClosedRequestBodies(OpenApiSerializerExtension):
    """Request bodies are closed objects (`additionalProperties: false`): the API refuses a field it does not
    declare (apps/tenancy/api_base.validated), and the schema says so, so that clients and fuzzers know."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField())


class ErrorOutput(serializers.Serializer):
    error = ErrorDetailOutput()


ERROR_MEANINGS = {
    400: "Bad input; `fields` says which.",
    401: "No or bad credentials.",
    403: "Your role may not do this.",
    404: "Unknown id, or another organization's.",
    409: "Conflict with the current state.",
    413: "The request body is larger than this route accepts.",
    422: "Idempotency-Key reused with another body.",
    429: "Rate-limited; see Retry-After.",
    503: "Briefly unavailable; retry after Retry-After.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The api.md error shape for these statuses, plus 401, 403 and 503, which any authenticated call can meet."""
    return {
        status: OpenApiResponse(ErrorOutput, description=ERROR_MEANINGS[status])
        for status in sorted({*statuses, 401, 403, 503})
    }


def public_error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The same for the endpoints that need no credentials."""
    return {
        status: OpenApiResponse(ErrorOutput, description=ERROR_MEANINGS[status]) for status in sorted({*statuses, 503})
    }


def cursor_page(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """The CursorPagination envelope around a list of `item`."""
    envelope = type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
    return envelope()


CURSOR_PARAMETER = OpenApiParameter(
    "cursor",
    {"type": "string", "minLength": 1},
    description="From the `next` or `previous` link.",
)
CURSOR_PARAMETERS = [
    CURSOR_PARAMETER,
    OpenApiParameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": 200}, description="Page size, from 1 to 200."
    ),
]

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    location=OpenApiParameter.HEADER,
    required=True,
    description="1-255 printable characters; the same key and body answer the first response again.",
)
