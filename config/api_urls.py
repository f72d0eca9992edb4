"""``/api/``: version 1 under ``/api/v1/``, the OpenAPI schema, its docs (Swagger UI and Redoc
served from drf-spectacular-sidecar, no CDN), the problem types, and the pre-v1 read-only paths
kept for existing clients (not in the schema)."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from api.problems import not_found_view, problem_types_view
from shop import api as shop_api
from social.engagement import api as engagement_api

legacy = [
    path("products/", shop_api.ProductList.as_view()),
    path("products/<slug:slug>/", shop_api.ProductDetail.as_view()),
    path("categories/", shop_api.CategoryList.as_view()),
    path("orders/", shop_api.OrderList.as_view()),
    path("orders/<str:number>/", shop_api.OrderDetail.as_view()),
    path("engagement/likes/", engagement_api.LikesView.as_view()),
    path("engagement/likes/<slug:target>/<int:object_id>/", engagement_api.LikeView.as_view()),
    path("engagement/shares/", engagement_api.SharesView.as_view()),
]

urlpatterns = [
    path("v1/", include("api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc styles itself with injected <style> elements (styled-components): this one
    # third-party page may apply inline styles; scripts stay 'self' only.
    path(
        "redoc/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("problems/", problem_types_view, name="api-problems"),
    path("problems/<slug:code>", problem_types_view, name="api-problem"),
    *legacy,
    re_path(r"^.*$", not_found_view),
]
