"""Cursor pagination for every list endpoint: strict about its parameters, ordered by the selector."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from ledgerx.errors import InvalidInput


class _Cursor(CursorPagination):
    """DRF's cursor pagination, strict about its parameters: a bad cursor or page size is a 400, not ignored."""

    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request):
        # DRF answers a mangled cursor with 404; it is bad input.
        invalid = InvalidInput(
            "The cursor is not valid; follow the next or previous link as given.",
            fields={"cursor": ["Invalid cursor."]},
        )
        if request.query_params.get(self.cursor_query_param) == "":
            raise invalid
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise invalid from None

    def get_page_size(self, request):
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= self.max_page_size:
            raise InvalidInput(
                f"A page size is a whole number from 1 to {self.max_page_size}.",
                fields={self.page_size_query_param: [f"From 1 to {self.max_page_size}."]},
            )
        return int(text)

    def get_ordering(self, request, queryset, view):
        # The selector orders (the transaction list's `ordering` filter among others); the cursor follows.
        return tuple(queryset.query.order_by) or self.ordering


class NewestFirst(_Cursor):
    ordering = ("-created_at", "-id")
    page_size = 50


class OldestFirst(_Cursor):
    ordering = ("id",)
    page_size = 200
