"""``/api/v1/``: each feature's ``api.py`` exposes ``urlpatterns``; add yours to ``MODULES``.

A new endpoint must also get a row in tests/api/test_permission_matrix.py (the test fails
without one) and, if it writes, go through a service.
"""

from django.urls import include, path

from . import views

MODULES = [
    "shop.api",
    "social.engagement.api",
    "social.reviews.api",
    "social.forums.api",
    "social.api",
    "personalization.api",
    "api.me",
    "api.staff",
    "personalization.segments.api",
    "personalization.banners.api",
    "personalization.recommendations.api",
    "personalization.loyalty.api",
    "personalization.outreach.api",
    "privacy.api",
    "crm.api",
]

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="api-root"),
    *[path("", include(module)) for module in MODULES],
]
