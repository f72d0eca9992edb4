"""Segments in the admin: rules as JSON with a live count and 20-member sample before saving."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path, reverse

from .exceptions import SegmentError
from .models import Segment, SegmentMembership, SegmentMembershipHistory
from .rules import REGISTRY, Env, RuleError, tree_clean, tree_compile, tree_explain
from .selectors import segment_preview
from .services import segment_save_rules, segments_hold_refresh, segments_refresh

EXAMPLE = {
    "op": "and",
    "rules": [
        {"type": "age_band", "params": {"bands": ["25-34"]}},
        {
            "op": "or",
            "rules": [
                {"type": "interest", "params": {"interests": ["hiking"]}},
                {"type": "affinity", "params": {"dimension": "category", "value": "outdoor"}},
            ],
        },
    ],
}


class SegmentForm(forms.ModelForm):
    rules = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 16, "cols": 90, "class": "vLargeTextField"}),
        help_text='Groups {"op": "and"|"or", "rules": [...]} nest to any depth; '
        'a rule is {"type": ..., "params": {...}} (the types are listed below).',
    )

    class Meta:
        model = Segment
        fields = ["name", "slug", "description", "is_active", "rules"]

    def clean(self):
        cleaned = super().clean()
        rules = cleaned.get("rules")
        if rules is not None and "rules" not in self.errors:
            slug = cleaned.get("slug") or (self.instance.slug if self.instance.pk else "")
            try:
                cleaned["rules"] = tree_clean(rules)
                tree_compile(cleaned["rules"], env=Env(stack=(slug,) if slug else ()))
            except RuleError as error:
                self.add_error("rules", ValidationError(str(error)))
        return cleaned


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    change_form_template = "admin/segments/segment/change_form.html"
    list_display = [
        "name",
        "slug",
        "member_count",
        "refreshed_at",
        "version",
        "is_builtin",
        "is_active",
    ]
    list_filter = ["is_builtin", "is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["version", "refreshed_at", "member_count", "is_builtin", "meaning"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["refresh_now"]

    def get_fields(self, request, obj=None):
        fields = ["name", "slug", "description", "is_active", "rules"]
        if obj is not None:
            fields += ["meaning", "member_count", "refreshed_at", "version", "is_builtin"]
        return fields

    @admin.display(description="In plain words")
    def meaning(self, obj):
        try:
            return "\n".join(tree_explain(obj.rules))
        except RuleError as error:
            return str(error)

    def get_changeform_initial_data(self, request):
        return {"rules": EXAMPLE, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        try:
            rules = form.cleaned_data["rules"]
            if change:
                obj.rules = Segment.objects.get(pk=obj.pk).rules
            segment_save_rules(segment=obj, rules=rules)
        except SegmentError as error:  # the form validated it; a race with another edit
            messages.error(request, str(error))

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="segments_segment_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """The htmx fragment: count and 20 members the rules match now (nothing saved)."""
        if request.method != "POST" or not self.has_view_permission(request):
            return render(
                request,
                "admin/segments/segment/preview.html",
                {"error": "Not allowed."},
                status=403,
            )
        context = {}
        status = 200
        try:
            rules = json.loads(request.POST.get("rules") or "{}")
            count, sample = segment_preview(rules=rules, slug=request.POST.get("slug", ""))
            context = {"count": count, "sample": sample}
        except json.JSONDecodeError as error:
            context, status = (
                {"error": f"The rules are not valid JSON ({error.msg}, line {error.lineno})."},
                422,
            )
        except RuleError as error:
            context, status = {"error": str(error)}, 422
        return render(request, "admin/segments/segment/preview.html", context, status=status)

    def render_change_form(self, request, context, *args, **kwargs):
        context["rule_types"] = sorted(REGISTRY.values(), key=lambda r: r.label)
        context["preview_url"] = reverse("admin:segments_segment_preview")
        return super().render_change_form(request, context, *args, **kwargs)

    def delete_model(self, request, obj):
        # the admin's delete view runs in a transaction: wait for a running refresh of the
        # segment (it would insert members of a deleted segment), keep the next one out
        segments_hold_refresh(segment_ids=[obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        segments_hold_refresh(segment_ids=list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)

    @admin.action(description="Refresh membership now")
    def refresh_now(self, request, queryset):
        result = segments_refresh(segment_ids=list(queryset.values_list("pk", flat=True)))
        message = f"{result.segments} refreshed: {result.entered} entered, {result.left} left."
        if result.errors:
            message += " Not refreshed: " + "; ".join(f"{k}: {v}" for k, v in result.errors.items())
        self.message_user(request, message)


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(admin.ModelAdmin):
    list_display = ["segment", "user", "entered_at", "rule_version"]
    list_filter = ["segment"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SegmentMembershipHistory)
class SegmentMembershipHistoryAdmin(SegmentMembershipAdmin):
    list_display = ["segment", "user", "action", "at", "rule_version"]
    list_filter = ["action", "segment"]
