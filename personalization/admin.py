import json

from django.contrib import admin

from shop.money import money_field

from .models import (
    Event,
    PreferenceProfile,
    ProfileBuildRun,
    ProfileBuildState,
    RemovedInterest,
    ShopperChoice,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff read these rows; only the services (the shopper's own choices, the builds, the
    retention task) write them. Adding or deleting one by hand would break an invariant: a
    deleted watermark makes the next build add every event twice, a deleted opt-out turns
    personalization back on behind the shopper's back, a hand-made event was never an act."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "user", "session_key", "product", "value"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["user__email", "session_key"]
    raw_id_fields = ["user", "product"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(PreferenceProfile)
class PreferenceProfileAdmin(ReadOnlyAdmin):
    """Profiles are built by tasks; staff read them and can ask for a rebuild."""

    list_display = [
        "user",
        "event_count",
        "order_count",
        "monetary_shown",
        "last_purchase_at",
        "updated_at",
    ]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    show_full_result_count = False
    actions = ["rebuild"]
    # the stored key ids and scores, shown as the ``{"<dimension>:<value>": raw}`` they mean
    exclude = ["affinity_ids", "affinity_raw", "monetary"]
    readonly_fields = ["monetary_shown", "affinities"]
    monetary_shown = money_field("monetary", "spent")

    @admin.display(description="Affinities (raw scores)")
    def affinities(self, obj):
        return json.dumps(obj.affinities, sort_keys=True)

    @admin.action(description="Rebuild the selected profiles (in the background)")
    def rebuild(self, request, queryset):
        from .tasks import rebuild_profile

        ids = list(queryset.values_list("user_id", flat=True)[:1000])
        for user_id in ids:
            rebuild_profile.delay(user_id)
        self.message_user(request, f"{len(ids)} rebuilds queued.")


@admin.register(ShopperChoice)
class ShopperChoiceAdmin(ReadOnlyAdmin):
    list_display = ["user", "personalization_enabled", "updated_at"]
    list_filter = ["personalization_enabled"]
    raw_id_fields = ["user"]


@admin.register(RemovedInterest)
class RemovedInterestAdmin(ReadOnlyAdmin):
    list_display = ["user", "dimension", "value", "removed_at"]
    list_filter = ["dimension"]
    raw_id_fields = ["user"]


@admin.register(ProfileBuildRun)
class ProfileBuildRunAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "mode", "from_event", "to_event", "profiles", "seconds"]
    list_filter = ["mode"]


@admin.register(ProfileBuildState)
class ProfileBuildStateAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "last_full_build_at", "updated_at"]
