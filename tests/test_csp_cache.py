"""config.csp.CSPMiddleware: django-csp's headers, the settings' policy built once (issue 15)."""

from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config import csp


def _headers(middleware_class, view, *, nonce=False):
    def get_response(request):
        if nonce:
            str(request.csp_nonce)  # the page put the nonce in a script tag
        return view(request)

    response = middleware_class(get_response)(RequestFactory().get("/somewhere"))
    return {name: response.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}


def plain(request):
    return HttpResponse("ok")


@csp_update({"style-src": ["'unsafe-inline'"]})
def updated(request):
    return HttpResponse("ok")


@csp_exempt()
def exempt(request):
    return HttpResponse("ok")


def test_the_headers_are_django_csps_own():
    for view in (plain, updated, exempt):
        for nonce in (False, True):
            ours = _headers(csp.CSPMiddleware, view, nonce=nonce)
            assert ours == _headers(DjangoCSPMiddleware, view, nonce=nonce), (view, nonce)
    assert _headers(csp.CSPMiddleware, plain)[HEADER], "precondition: a policy is configured"
    assert "'unsafe-inline'" in _headers(csp.CSPMiddleware, updated)[HEADER]
    assert _headers(csp.CSPMiddleware, exempt)[HEADER] is None
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": [SELF, NONCE]}}):
        assert "'nonce-" in _headers(csp.CSPMiddleware, plain, nonce=True)[HEADER]
        assert "'nonce-" not in _headers(csp.CSPMiddleware, plain)[HEADER]


def test_a_changed_setting_is_used_at_once():
    before = _headers(csp.CSPMiddleware, plain)[HEADER]
    policy = {"DIRECTIVES": {"default-src": ["'self'", "cdn.example"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy
    ):
        during = _headers(csp.CSPMiddleware, plain)
        assert during == _headers(DjangoCSPMiddleware, plain)
        assert "cdn.example" in during[HEADER] and "cdn.example" in during[HEADER_REPORT_ONLY]
    assert _headers(csp.CSPMiddleware, plain)[HEADER] == before


def test_excluded_prefixes_are_honoured():
    policy = {"EXCLUDE_URL_PREFIXES": ["/some"], "DIRECTIVES": {"default-src": ["'self'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert _headers(csp.CSPMiddleware, plain)[HEADER] is None
        assert _headers(DjangoCSPMiddleware, plain)[HEADER] is None
