from django.contrib import admin

from .models import (
    Event,
    PreferenceProfile,
    ProfileBuildRun,
    ProfileBuildState,
    RemovedInterest,
    ShopperChoice,
)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "user", "session_key", "product", "value"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["user__email", "session_key"]
    raw_id_fields = ["user", "product"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # the event log is append-only


@admin.register(PreferenceProfile)
class PreferenceProfileAdmin(admin.ModelAdmin):
    """Profiles are built by tasks; staff read them and can ask for a rebuild."""

    list_display = [
        "user",
        "event_count",
        "order_count",
        "monetary",
        "last_purchase_at",
        "updated_at",
    ]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    show_full_result_count = False
    actions = ["rebuild"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Rebuild the selected profiles (in the background)")
    def rebuild(self, request, queryset):
        from .tasks import rebuild_profile

        ids = list(queryset.values_list("user_id", flat=True)[:1000])
        for user_id in ids:
            rebuild_profile.delay(user_id)
        self.message_user(request, f"{len(ids)} rebuilds queued.")


@admin.register(ShopperChoice)
class ShopperChoiceAdmin(admin.ModelAdmin):
    list_display = ["user", "personalization_enabled", "updated_at"]
    list_filter = ["personalization_enabled"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False  # the shopper decides, on their "Your interests" page


@admin.register(RemovedInterest)
class RemovedInterestAdmin(admin.ModelAdmin):
    list_display = ["user", "dimension", "value", "removed_at"]
    list_filter = ["dimension"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProfileBuildRun)
class ProfileBuildRunAdmin(admin.ModelAdmin):
    list_display = ["finished_at", "mode", "from_event", "to_event", "profiles", "seconds"]
    list_filter = ["mode"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProfileBuildState)
class ProfileBuildStateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "last_full_build_at", "updated_at"]

    def has_change_permission(self, request, obj=None):
        return False
