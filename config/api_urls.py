"""The REST API root: each app adds its router here; the OpenAPI schema and docs are served."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shop.api import router as shop_router

urlpatterns = [
    path("", include(shop_router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("engagement/", include("social.engagement.api")),
]
