"""SCIM 2.0 endpoints under /scim/v2/ (RFC 7644), for Okta and Entra ID.

Thin: each view reads the request, calls a selector or a service, and answers application/scim+json.
Not in the OpenAPI schema (api.md's contract); SCIM's own discovery endpoints describe them.
"""

import orjson
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ledgerx.audit_context import USER_AGENT_MAX, AuditActor, audit_context_enter, audit_context_leave
from ledgerx.errors import LedgerXError
from ledgerx.ratelimit import client_ip

from . import discovery, groups, selectors, services
from .authentication import ScimTokenAuthentication
from .protocol import MEDIA_TYPE, ScimError, invalid_value, list_response, paging, patch_operations
from .representations import group_representation, user_representation


class ScimRenderer(BaseRenderer):
    media_type = MEDIA_TYPE
    format = "scim"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else orjson.dumps(data)


class ScimParser(BaseParser):
    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ScimError(400, f"The body is not JSON: {error}", "invalidSyntax") from None


class JsonAsScimParser(ScimParser):
    """Some clients send SCIM as application/json."""

    media_type = "application/json"


def scim_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every refusal in RFC 7644's error shape (3.12)."""
    if isinstance(exc, LedgerXError):
        scim_type = {400: "invalidValue", 409: "uniqueness"}.get(exc.status)
        exc = ScimError(exc.status, exc.message, scim_type)
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response = Response(ScimError(401, str(exc.detail)).body(), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="scim"'
        return response
    elif isinstance(exc, exceptions.ParseError):
        exc = ScimError(400, str(exc.detail), "invalidSyntax")
    elif isinstance(exc, exceptions.APIException):
        exc = ScimError(exc.status_code, str(exc.detail))
    if isinstance(exc, ScimError):
        return Response(exc.body(), status=exc.status)
    return None


class ScimView(APIView):
    authentication_classes = [ScimTokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [ScimRenderer]
    parser_classes = [ScimParser, JsonAsScimParser]
    schema = None
    # Query parameters a GET reads; any other is refused (nothing a client sends is silently ignored).
    query_parameters: frozenset[str] = frozenset()

    def get_exception_handler(self):
        return scim_exception_handler

    def perform_content_negotiation(self, request, force=False):
        # SCIM answers application/scim+json whatever the Accept header says (Okta sends application/json).
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # The request's writes are the SCIM client's, in the database's change log as in the audit events.
        self._audit = audit_context_enter(self._actor(request))
        allowed = self.query_parameters if request.method == "GET" else frozenset()
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise invalid_value(f"Unknown query parameter {unknown[0]!r}.")
        repeated = sorted(name for name in request.query_params if len(request.query_params.getlist(name)) > 1)
        if repeated:
            raise invalid_value(f"The query parameter {repeated[0]!r} is given more than once.")

    def _actor(self, request) -> AuditActor:
        return AuditActor(
            label=request.auth.actor_label,
            origin={
                "address": client_ip(request),
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
                "request": f"{request.method} {request.path}"[:USER_AGENT_MAX],
                "scim_token": str(request.auth.id),
            },
            context_id=request.META.get("HTTP_X_REQUEST_ID", "")[:64] or getattr(request, "audit_context_id", ""),
        )

    def finalize_response(self, request, response, *args, **kwargs):
        audit = getattr(self, "_audit", None)
        if audit is not None:
            audit_context_leave(audit)
            self._audit = None
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def token(self):
        return self.request.auth

    @property
    def organization(self):
        return self.request.auth.organization

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/").rstrip("/")


class _Paged(ScimView):
    query_parameters = frozenset({"filter", "startIndex", "count", "attributes", "excludedAttributes"})

    def page(self, queryset, represent) -> Response:
        start, count = paging(self.request.query_params)
        total = queryset.count()
        items = list(queryset[start - 1 : start - 1 + count]) if count else []
        resources = [_projected(represent(item), self.request.query_params) for item in items]
        return Response(list_response(resources, total=total, start=start))


def _projected(resource: dict, params) -> dict:
    """`attributes` keeps only the named top-level attributes (id and schemas always); `excludedAttributes`
    drops them (RFC 7644 3.4.2.5). Entra ID asks for groups with excludedAttributes=members."""
    kept = {"id", "schemas"}
    if params.get("attributes"):
        wanted = {name.strip().lower() for name in params["attributes"].split(",")} | kept
        return {key: value for key, value in resource.items() if key.lower() in wanted}
    if params.get("excludedAttributes"):
        dropped = {name.strip().lower() for name in params["excludedAttributes"].split(",")} - kept
        return {key: value for key, value in resource.items() if key.lower() not in dropped}
    return resource


class UsersApi(_Paged):
    def get(self, request):
        users = selectors.scim_users(organization=self.organization, filter_text=request.query_params.get("filter"))
        return self.page(users, lambda user: user_representation(user, base_url=self.base_url()))

    def post(self, request):
        user = services.scim_user_create(token=self.token, resource=request.data)
        return self._created(user)

    def _created(self, user) -> Response:
        user = selectors.scim_user(organization=self.organization, user_id=str(user.id))
        resource = user_representation(user, base_url=self.base_url())
        return Response(resource, status=201, headers={"Location": resource["meta"]["location"]})


class UserApi(ScimView):
    query_parameters = frozenset({"attributes", "excludedAttributes"})

    def _user(self, user_id: str):
        return selectors.scim_user(organization=self.organization, user_id=user_id)

    def _answer(self, user_id: str) -> Response:
        resource = user_representation(self._user(user_id), base_url=self.base_url())
        return Response(_projected(resource, self.request.query_params))

    def get(self, request, user_id: str):
        return self._answer(user_id)

    def put(self, request, user_id: str):
        services.scim_user_replace(token=self.token, user=self._user(user_id), resource=request.data)
        return self._answer(user_id)

    def patch(self, request, user_id: str):
        user = self._user(user_id)
        services.scim_user_patch(token=self.token, user=user, operations=patch_operations(request.data))
        return self._answer(user_id)

    def delete(self, request, user_id: str):
        services.scim_user_delete(token=self.token, user=self._user(user_id))
        return Response(status=204)


class GroupsApi(_Paged):
    def get(self, request):
        found = selectors.scim_groups(organization=self.organization, filter_text=request.query_params.get("filter"))
        return self.page(found, lambda group: group_representation(group, base_url=self.base_url()))

    def post(self, request):
        group = groups.scim_group_create(token=self.token, resource=request.data)
        group = selectors.scim_group(organization=self.organization, group_id=str(group.id))
        resource = group_representation(group, base_url=self.base_url())
        return Response(resource, status=201, headers={"Location": resource["meta"]["location"]})


class GroupApi(ScimView):
    query_parameters = frozenset({"attributes", "excludedAttributes"})

    def _group(self, group_id: str):
        return selectors.scim_group(organization=self.organization, group_id=group_id)

    def get(self, request, group_id: str):
        resource = group_representation(self._group(group_id), base_url=self.base_url())
        return Response(_projected(resource, request.query_params))

    def put(self, request, group_id: str):
        groups.scim_group_replace(token=self.token, group=self._group(group_id), resource=request.data)
        return Response(group_representation(self._group(group_id), base_url=self.base_url()))

    def patch(self, request, group_id: str):
        # Okta and Entra ID both take 204 to a group PATCH; the members list can be long.
        operations = patch_operations(request.data)
        groups.scim_group_patch(token=self.token, group=self._group(group_id), operations=operations)
        return Response(status=204)

    def delete(self, request, group_id: str):
        groups.scim_group_delete(token=self.token, group=self._group(group_id))
        return Response(status=204)


class DiscoveryApi(ScimView):
    """ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 section 4). Read-only, the same for everyone."""

    document = None

    def get(self, request, resource_id: str | None = None):
        return Response(discovery.answer(self.document, resource_id, base_url=self.base_url()))
