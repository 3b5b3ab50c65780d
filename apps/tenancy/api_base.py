"""The DRF half of tenant scoping: every tenant endpoint derives from TenantAPIView.

And the API's strict contract: nothing a client sends is silently ignored. A body field, a query
parameter or a body the view does not declare is a 400 naming it; validated() decides, for all of them.
"""

from collections.abc import Callable, Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ledgerx.errors import InvalidInput

from .permissions import TENANT_ROLES, RoleAllowed


class NoQuery(serializers.Serializer):
    """What a view takes in its query string unless it declares filters: nothing."""


def validated(serializer_class, data, *, passthrough: Collection[str] = (), **kwargs) -> dict:
    """Validate a JSON body or a query string with `serializer_class`; anything else is a 400.

    A key the serializer does not declare is refused, by name, as is a query parameter given twice;
    `passthrough` names query parameters that another part reads and checks (pagination's cursor and limit).
    """
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=data, **kwargs)
    # Every problem at once, so a client fixes its request in one go.
    problems: dict[str, list] = {
        name: ["Unknown field."] for name in sorted(set(data) - set(serializer.fields) - set(passthrough))
    }
    if hasattr(data, "getlist"):  # a QueryDict keeps every value of a repeated parameter; .get() reads the last
        problems.update({name: ["Given more than once."] for name in sorted(data) if len(data.getlist(name)) > 1})
    if not serializer.is_valid():
        problems.update(
            {
                name: [str(error) for error in errors] if isinstance(errors, list) else errors
                for name, errors in serializer.errors.items()
            }
        )
    if problems:
        unknown = [name for name, errors in problems.items() if errors == ["Unknown field."]]
        message = (
            f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."
            if unknown
            else ("The request is not valid.")
        )
        raise InvalidInput(message, fields=problems)
    return serializer.validated_data


class StrictAPIView(APIView):
    """Checks the query string (and that bodyless methods got no body) before the handler runs.

    A GET declares `filters_class` (its query serializer) and `paginator_class`; the handler reads the
    validated filters from `self.filters`. Every other method takes no query parameters.
    """

    filters_class: type[serializers.Serializer] = NoQuery
    paginator_class: type | None = None
    # Methods whose handler reads a body; a body sent with any other is refused rather than ignored.
    body_methods: Collection[str] = ("POST", "PUT", "PATCH")

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in self.body_methods and _has_body(request):
            raise InvalidInput(f"{request.method} here takes no body.", fields={"body": ["Not expected."]})
        if request.method in ("GET", "HEAD"):
            self.filters = validated(self.filters_class, request.query_params, passthrough=self._paging_parameters())
        else:
            self.filters = validated(NoQuery, request.query_params)

    def _paging_parameters(self) -> Iterable[str]:
        paginator = self.paginator_class
        if paginator is None:
            return ()
        return [name for name in (paginator.cursor_query_param, paginator.page_size_query_param) if name]

    def paginated(self, queryset, represent: Callable[[Any], dict]) -> Response:
        """One page of `queryset` by `paginator_class`, each item through `represent`."""
        paginator = self.paginator_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response([represent(item) for item in page])


def _has_body(request) -> bool:
    return request.META.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in request.META


class TenantAPIView(StrictAPIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles: tuple | dict = TENANT_ROLES

    @property
    def organization(self):
        return self.request.user.organization

    def get_scoped(self, queryset, pk):
        """Fetch by id within the caller's organization; anything else is a 404."""
        try:
            return queryset.of(self.organization).get(pk=pk)
        except (queryset.model.DoesNotExist, ValueError, ValidationError):
            raise Http404 from None
