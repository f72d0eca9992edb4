from django.contrib import messages
from django.shortcuts import redirect
from requests import RequestException


class ProviderUnavailableMiddleware:
    """A social provider that cannot be reached during allauth's own login or callback views.

    allauth fetches the provider's discovery document outside its error handling, so a provider
    that is down would surface as a 500; so would a provider whose credentials are not set
    (``/accounts/google/login/`` without GOOGLE_CLIENT_ID). Here both become a message and a
    way back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from allauth.socialaccount.models import SocialApp

        match = request.resolver_match
        if match is None or not (match.url_name or "").endswith(("_login", "_callback", "_token")):
            return None
        if isinstance(exception, SocialApp.DoesNotExist):
            # Google and Facebook are installed but offered only when their credentials are set.
            text = "That sign-in option is not available in this store. Nothing was shared."
        elif isinstance(exception, RequestException):
            text = (
                "The sign-in provider could not be reached, so sign-in did not complete. "
                "Nothing was shared; please try again in a moment."
            )
        else:
            return None
        messages.error(request, text)
        return redirect("social:privacy" if request.user.is_authenticated else "account_login")
