from django.contrib import admin

from config.admin_labels import LabelledListEditable

from .models import IntentRule
from .services import rules_changed


@admin.register(IntentRule)
class IntentRuleAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["phrase", "intent", "category", "keywords", "window", "is_active"]
    list_filter = ["intent", "is_active", "category"]
    list_editable = ["is_active"]
    search_fields = ["phrase", "keywords", "category__name"]
    autocomplete_fields = ["category"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rules_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rules_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        rules_changed()
