"""django-csp's middleware with the usual header worked out once per process (issue 15).

``csp.middleware.CSPMiddleware`` builds the ``Content-Security-Policy`` header (and the
report-only one) from the settings on every response: two ``build_policy`` calls and two
``dataclasses.asdict`` copies, about a quarter of ``/healthz``'s CPU. For a response whose
policy is the settings' own (no ``csp_update``/``csp_replace``/``csp_exempt``/``csp_override``
on the view, no nonce taken by the page) the header is always the same string, so it is built
once and kept until a setting changes; anything else goes to django-csp unchanged.
"""

from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

#: What a view's CSP decorators set on its response: any of them means a policy of its own.
_PER_VIEW = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt",
    "_csp_exempt_ro",
)


@cache
def _settings_policies() -> tuple[str, str]:
    """(the policy, the report-only policy) the settings alone give ("" for none)."""
    return build_policy(), build_policy(report_only=True)


def _forget(**kwargs) -> None:
    _settings_policies.cache_clear()


setting_changed.connect(_forget, dispatch_uid="config.csp.forget")


class CSPMiddleware(BaseCSPMiddleware):
    """``csp.middleware.CSPMiddleware`` with the settings' policy built once (see the module).

    Guarantees: every response carries exactly the headers django-csp would set (same values,
    same exemptions, ``EXCLUDE_URL_PREFIXES`` honoured); a page that used ``request.csp_nonce``
    or a view with its own policy is handled by django-csp itself.
    """

    def process_response(self, request, response):
        plain = getattr(request, "_csp_nonce", None) is None and not any(
            hasattr(response, name) for name in _PER_VIEW
        )
        if not plain:
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response
        policy, report_only = _settings_policies()
        for header, value, setting in (
            (HEADER, policy, "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, report_only, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if not value or header in response:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # as django-csp does: a nonce asked for after the header was written is an error
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
