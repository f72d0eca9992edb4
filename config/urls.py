from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from shop.views import healthz

admin.site.site_header = "Agora administration"
admin.site.site_title = "Agora admin"
admin.site.index_title = "Run the store"

handler500 = "config.errors.server_error"  # a database outage answers 503 (issue 16)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("social.urls")),
    path("", include("social.engagement.urls")),
    path("", include("social.reviews.urls")),
    path("", include("social.forums.urls")),
    path("", include("personalization.urls")),
    path("", include("personalization.banners.urls")),
    path("", include("personalization.outreach.urls")),
    path("", include("personalization.recommendations.urls")),
    path("", include("personalization.loyalty.urls")),
    path("", include("crm.urls")),
    path("", include("privacy.urls")),
    path("api/", include("config.api_urls")),
    path("", include("api.page_urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG or settings.AGORA_SERVE_MEDIA:
    urlpatterns += [
        path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
