from django.contrib import admin

from config.admin_labels import LabelledListEditable

from . import services
from .models import (
    Like,
    PublicProfile,
    ReferralAttribution,
    ShareLink,
    ShareVisit,
    StoreSocialAccount,
)


@admin.register(StoreSocialAccount)
class StoreSocialAccountAdmin(LabelledListEditable, admin.ModelAdmin):
    """The store's own accounts, listed in the "Follow us" block of every page."""

    list_display = ["network", "label", "url", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["network", "is_active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.store_accounts_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.store_accounts_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.store_accounts_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.store_accounts_changed()


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ["user", "content_type", "object_id", "created_at"]
    list_filter = ["content_type"]
    raw_id_fields = ["user"]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"


@admin.register(PublicProfile)
class PublicProfileAdmin(admin.ModelAdmin):
    list_display = ["handle", "display_name", "user", "is_public", "likes_public"]
    list_filter = ["is_public", "likes_public"]
    raw_id_fields = ["user"]
    search_fields = ["handle", "display_name", "user__email"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["code", "sharer", "channel", "content_type", "object_id", "shares"]
    list_filter = ["channel", "content_type"]
    raw_id_fields = ["sharer"]
    search_fields = ["code", "sharer__email"]


@admin.register(ShareVisit)
class ShareVisitAdmin(admin.ModelAdmin):
    list_display = ["link", "visitor", "user", "created_at"]
    raw_id_fields = ["link", "user"]


@admin.register(ReferralAttribution)
class ReferralAttributionAdmin(admin.ModelAdmin):
    list_display = ["order", "sharer", "channel", "visited_at", "created_at"]
    list_filter = ["channel"]
    raw_id_fields = ["order", "link", "sharer"]
