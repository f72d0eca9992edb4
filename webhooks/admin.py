"""Webhooks in the admin: endpoints (URL, events, secret), their delivery log with the request
and response of every attempt, and the redeliver / rotate secret / re-enable actions."""

from django.contrib import admin, messages
from django.utils.html import format_html

from . import services
from .forms import WebhookEndpointForm
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["link", "event", "status", "attempts", "last_status_code", "next_attempt_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]
    verbose_name_plural = "Recent deliveries (open one for its log)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message")

    @admin.display(description="Delivery")
    def link(self, obj):
        return format_html(
            '<a href="/admin/webhooks/webhookdelivery/{}/change/">#{}</a>', obj.pk, obj.pk
        )

    @admin.display(description="Event")
    def event(self, obj):
        return obj.message.event


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "event_list", "is_active", "disabled_reason", "failing_since"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "secret_shown",
        "disabled_at",
        "disabled_reason",
        "disabled_emailed_at",
        "failing_since",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["url", "description", "events", "is_active"]}),
        ("Signing", {"fields": ["secret_shown"]}),
        (
            "Health",
            {
                "fields": [
                    "disabled_at",
                    "disabled_reason",
                    "disabled_emailed_at",
                    "failing_since",
                    "created_at",
                ]
            },
        ),
    ]
    inlines = [DeliveryInline]
    actions = ["rotate_secret", "enable"]

    @admin.display(description="Events")
    def event_list(self, obj):
        return ", ".join(obj.events)

    @admin.display(description="Signing secret")
    def secret_shown(self, obj):
        if not obj.pk:
            return "Created when you save."
        extra = ""
        if obj.previous_secret and obj.previous_secret_expires_at:
            until = f"{obj.previous_secret_expires_at:%Y-%m-%d %H:%M}"
            extra = f" (the previous secret also signs until {until} UTC)"
        return format_html("<code>{}</code>{}", obj.secret, extra)

    @admin.action(description="Rotate the signing secret (old one kept 24 h)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint_id=endpoint.pk)
        self.message_user(request, f"Rotated {queryset.count()} secret(s).", messages.SUCCESS)

    @admin.action(description="Re-enable")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_enable(endpoint_id=endpoint.pk)
        self.message_user(request, f"Enabled {queryset.count()} endpoint(s).", messages.SUCCESS)


class AttemptInline(admin.StackedInline):
    model = WebhookAttempt
    fields = [
        "attempted_at",
        "redelivery",
        "request_url",
        "request_headers",
        "request_body",
        "response_status",
        "response_headers",
        "response_body",
        "error",
        "duration_ms",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "endpoint", "message__event"]
    list_select_related = ["endpoint", "message"]
    search_fields = ["message__msg_id", "endpoint__url"]
    readonly_fields = [
        "endpoint",
        "message",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Event")
    def event(self, obj):
        return obj.message.event

    @admin.display(description="Payload")
    def payload(self, obj):
        return format_html("<pre>{}</pre>", services.body_for(obj.message).decode())

    @admin.action(description="Redeliver now")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.delivery_redeliver(delivery_id=delivery.pk)
        self.message_user(request, f"Queued {queryset.count()} redelivery(ies).", messages.SUCCESS)


@admin.register(WebhookMessage)
class WebhookMessageAdmin(admin.ModelAdmin):
    list_display = ["msg_id", "event", "created_at"]
    list_filter = ["event"]
    search_fields = ["msg_id"]
    readonly_fields = ["msg_id", "event", "payload", "created_at"]

    def has_add_permission(self, request):
        return False
