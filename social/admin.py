from django.contrib import admin

from .models import Connection, ConsentRecord, SocialProfile


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["follower", "followed", "kind", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["follower", "followed"]
    search_fields = ["follower__email", "followed__email"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """The consent history is append-only: staff can read it, nobody edits it."""

    list_display = ["created_at", "user", "category", "action", "source", "policy_version"]
    list_filter = ["category", "action", "source", "policy_version"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NotSharedAllValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "all values" filter, with the blank value named "Not shared" instead of a link
    with no text (axe: links must have discernible text)."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice = {**choice, "display": "Not shared"}
            yield choice


@admin.register(SocialProfile)
class SocialProfileAdmin(admin.ModelAdmin):
    """Read-only: the shopper decides what is here, through the permission screen."""

    list_display = ["user", "provider", "age_band", "gender", "relationship_status", "updated_at"]
    list_filter = ["provider", ("age_band", NotSharedAllValuesFilter), "gender"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
