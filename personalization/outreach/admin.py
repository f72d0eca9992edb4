"""Outreach in the admin: campaigns (preview, test send, schedule, cancel), the attention
budget, the outbox and its decision log, subscribers with their consent history, suppressions.
Every change goes through the services."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .budget import RULE_LABELS
from .exceptions import OutreachError
from .models import (
    BudgetSettings,
    Campaign,
    MarketingConsentRecord,
    OutreachDecision,
    OutreachMessage,
    Subscriber,
    Suppression,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BudgetSettings)
class BudgetSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Emails per shopper", {"fields": ["max_per_window", "window_days", "min_gap_hours"]}),
        (
            "Quiet hours (shopper's zone)",
            {"fields": ["quiet_start", "quiet_end", "default_time_zone"]},
        ),
        (
            "Engagement",
            {"fields": ["backoff_after", "backoff_gap_hours", "pause_after"]},
        ),
        (
            "Sending",
            {
                "fields": [
                    "send_rate_per_second",
                    "send_burst",
                    "soft_bounce_max_attempts",
                    "soft_bounce_backoff_minutes",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return not BudgetSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = BudgetSettings.current()
        return HttpResponseRedirect(reverse("admin:outreach_budgetsettings_change", args=[obj.pk]))


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "topic",
        "status",
        "send_at",
        "n_planned",
        "n_sent",
        "n_dropped",
        "tools",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["name"]
    filter_horizontal = ["segments"]
    readonly_fields = ["status", "planned_at", "created_by", "created_at", "tools"]
    actions = ["schedule", "cancel"]
    fieldsets = [
        (None, {"fields": ["name", "topic", "segments", "send_at", "ends_at", "held_policy"]}),
        (
            "Content",
            {
                "fields": [
                    "subject_template",
                    "html_template",
                    "text_template",
                    "picks_count",
                    "coupon_ref",
                ]
            },
        ),
        ("State", {"fields": ["status", "planned_at", "created_by", "created_at", "tools"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _planned=Count("messages", filter=Q(messages__status="planned")),
                _sent=Count("messages", filter=Q(messages__status="sent")),
                _dropped=Count("messages", filter=Q(messages__status="dropped")),
            )
        )

    @admin.display(description="planned", ordering="_planned")
    def n_planned(self, obj):
        return getattr(obj, "_planned", "–")

    @admin.display(description="sent", ordering="_sent")
    def n_sent(self, obj):
        return getattr(obj, "_sent", "–")

    @admin.display(description="dropped", ordering="_dropped")
    def n_dropped(self, obj):
        return getattr(obj, "_dropped", "–")

    @admin.display(description="tools")
    def tools(self, obj):
        if not obj.pk:
            return "Save first."
        return format_html(
            '<a href="{}">Preview and test send</a> · <a href="{}">Decision log</a>',
            reverse("admin:outreach_campaign_preview", args=[obj.pk]),
            reverse("admin:outreach_outreachdecision_changelist")
            + f"?campaign__id__exact={obj.pk}",
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        try:
            from .rendering import check_templates

            check_templates(obj)
        except OutreachError as exc:
            messages.warning(request, str(exc))
        super().save_model(request, obj, form, change)

    @admin.action(description="Schedule (plan and send under the budget)")
    def schedule(self, request, queryset):
        for campaign in queryset:
            try:
                services.campaign_schedule(campaign=campaign)
            except OutreachError as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{campaign}: scheduled; planning has started.")

    @admin.action(description="Cancel (drop messages not yet sent)")
    def cancel(self, request, queryset):
        for campaign in queryset:
            dropped = services.campaign_cancel(campaign=campaign)
            self.message_user(request, f"{campaign}: cancelled, {dropped} messages dropped.")

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="outreach_campaign_preview",
            )
        ] + super().get_urls()

    def preview_view(self, request, pk):
        """Render the campaign for any shopper; POST sends that rendering to the staff user."""
        from .rendering import render_for

        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            return HttpResponseRedirect(reverse("admin:index"))
        User = get_user_model()
        who = (request.POST.get("shopper") or request.GET.get("shopper") or "").strip()
        shopper = None
        error = ""
        if who:
            lookup = Q(email__iexact=who) | (Q(pk=int(who)) if who.isdigit() else Q(pk=None))
            shopper = User.objects.filter(lookup).first()
            if shopper is None:
                error = f"No shopper “{who}”."
        shopper = shopper or request.user
        rendered = None
        try:
            rendered = render_for(campaign=campaign, user=shopper, message_pk=None)
        except OutreachError as exc:
            error = str(exc)
        status = 200 if not error else 400
        if request.method == "POST" and rendered is not None and not error:
            try:
                services.campaign_test_send(
                    campaign=campaign, shopper=shopper, to=request.user.email
                )
            except OutreachError as exc:
                error, status = str(exc), 400
            else:
                messages.success(request, f"Test sent to {request.user.email}.")
                return HttpResponseRedirect(request.path + f"?shopper={shopper.pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "campaign": campaign,
            "shopper": shopper,
            "who": who,
            "rendered": rendered,
            "error": error,
            "title": f"Preview: {campaign}",
        }
        return TemplateResponse(request, "admin/outreach/preview.html", context, status=status)


class DecisionInline(ReadOnlyMixin, admin.TabularInline):
    model = OutreachDecision
    fields = ["decided_at", "outcome", "rule", "reason", "until"]
    readonly_fields = fields
    extra = 0


@admin.register(OutreachMessage)
class OutreachMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "campaign",
        "status",
        "slot_at",
        "sent_at",
        "opened_at",
        "rule",
        "reason",
    ]
    list_filter = ["status", "rule", "campaign"]
    search_fields = ["email", "message_id"]
    list_select_related = ["campaign"]
    inlines = [DecisionInline]
    show_full_result_count = False


@admin.register(OutreachDecision)
class OutreachDecisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The decision log: per shopper and message, what was decided and by which rule."""

    list_display = ["decided_at", "shopper", "campaign", "outcome", "rule_label", "reason", "until"]
    list_filter = ["outcome", "rule", "campaign"]
    search_fields = ["user__email", "message__message_id"]
    list_select_related = ["user", "campaign"]
    date_hierarchy = "decided_at"
    show_full_result_count = False

    @admin.display(description="shopper", ordering="user__email")
    def shopper(self, obj):
        return obj.user.email

    @admin.display(description="rule", ordering="rule")
    def rule_label(self, obj):
        return RULE_LABELS.get(obj.rule, obj.rule)


class ConsentInline(ReadOnlyMixin, admin.TabularInline):
    model = MarketingConsentRecord
    fk_name = "user"
    fields = ["created_at", "action", "source", "policy_version"]
    readonly_fields = fields
    extra = 0


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["user", "marketing_opt_in", "frequency", "time_zone", "paused_until"]
    list_filter = ["marketing_opt_in", "frequency"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "marketing_opt_in", "updated_at", "consent_history", "decisions"]
    fields = [
        "user",
        "marketing_opt_in",
        "time_zone",
        "frequency",
        "paused_until",
        "consent_history",
        "decisions",
        "updated_at",
    ]
    actions = ["opt_out"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.validate_time_zone(obj.time_zone)
        except OutreachError as exc:
            messages.error(request, str(exc))
            return
        super().save_model(request, obj, form, change)

    @admin.display(description="consent history")
    def consent_history(self, obj):
        rows = MarketingConsentRecord.objects.filter(user_id=obj.user_id)[:20]
        return format_html(
            "<br>".join(["{}"] * len(rows)) or "–",
            *[
                f"{r.created_at:%Y-%m-%d %H:%M} {r.get_action_display()} "
                f"({r.get_source_display()}, policy {r.policy_version})"
                for r in rows
            ],
        )

    @admin.display(description="latest decisions")
    def decisions(self, obj):
        rows = OutreachDecision.objects.filter(user_id=obj.user_id).select_related("campaign")[:20]
        return format_html(
            "<br>".join(["{}"] * len(rows)) or "–",
            *[
                f"{d.decided_at:%Y-%m-%d %H:%M} {d.campaign}: "
                f"{d.get_outcome_display()} — {d.reason}"
                + (f" (until {d.until:%Y-%m-%d %H:%M} UTC)" if d.until else "")
                for d in rows
            ],
        )

    @admin.action(description="Opt out of marketing email (on the shopper's request)")
    def opt_out(self, request, queryset):
        for sub in queryset.select_related("user"):
            services.marketing_consent_set(
                user=sub.user, opted_in=False, source=MarketingConsentRecord.Source.ADMIN
            )
        self.message_user(request, "Opted out; recorded in their consent history.")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "source", "created_at", "detail"]
    list_filter = ["reason", "source"]
    search_fields = ["email"]
    fields = ["email", "reason", "detail"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.suppression_add(
            email=obj.email, reason=obj.reason, source=Suppression.Source.ADMIN, detail=obj.detail
        )
        obj.pk = saved.pk


@admin.register(MarketingConsentRecord)
class MarketingConsentRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "source", "policy_version"]
    list_filter = ["action", "source"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
