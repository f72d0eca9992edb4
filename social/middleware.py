from django.contrib import messages
from django.shortcuts import redirect
from requests import RequestException


class ProviderUnavailableMiddleware:
    """A social provider that cannot be reached during allauth's own login or callback views.

    allauth fetches the provider's discovery document outside its error handling, so a provider
    that is down would surface as a 500; here it becomes a message and a way back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = request.resolver_match
        if not isinstance(exception, RequestException) or match is None:
            return None
        if not (match.url_name or "").endswith(("_login", "_callback")):
            return None
        messages.error(
            request,
            "The sign-in provider could not be reached, so sign-in did not complete. "
            "Nothing was shared; please try again in a moment.",
        )
        return redirect("social:privacy" if request.user.is_authenticated else "account_login")
