from django.shortcuts import render

from .exceptions import ShopError


class ShopErrorMiddleware:
    """The one place where a ShopError that a view did not handle becomes a 4xx page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ShopError):
            return render(
                request,
                "shop/problem.html",
                {"message": str(exception)},
                status=exception.status_code,
            )
        return None
