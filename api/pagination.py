"""Cursor pagination for long lists: stable under inserts, constant cost per page.

The ordering is the view's ``ordering`` or, when the view sorts per request (the catalogue's
``sort`` filter), the queryset's own ``order_by``. Clients follow ``next``/``previous`` links and
never build cursors themselves.
"""

from rest_framework.pagination import CursorPagination as _CursorPagination


class CursorPagination(_CursorPagination):
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-pk"

    def get_ordering(self, request, queryset, view):
        explicit = getattr(view, "ordering", None)
        if explicit:
            return (explicit,) if isinstance(explicit, str) else tuple(explicit)
        if queryset.query.order_by:
            return tuple(queryset.query.order_by)
        return (self.ordering,)
