from django.contrib import admin

from .models import Segment, SegmentMembershipHistory


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "refreshed_at", "version", "is_builtin"]
    search_fields = ["name", "slug"]
    readonly_fields = ["version", "refreshed_at", "member_count"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SegmentMembershipHistory)
class SegmentMembershipHistoryAdmin(admin.ModelAdmin):
    list_display = ["segment", "user", "action", "at", "rule_version"]
    list_filter = ["action", "segment"]
    raw_id_fields = ["user"]
