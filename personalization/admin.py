from django.contrib import admin

from .models import Event


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
