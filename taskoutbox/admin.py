"""Parked task calls in the admin: read only (the beat task publishes and deletes them)."""

from django.contrib import admin

from .models import ParkedTask


@admin.register(ParkedTask)
class ParkedTaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "task", "args", "kwargs", "eta", "parked_at", "error"]
    list_filter = ["task"]
    search_fields = ["task"]
    date_hierarchy = "parked_at"
    readonly_fields = ["task", "args", "kwargs", "options", "eta", "parked_at", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
