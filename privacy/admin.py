"""Staff privacy tools: export a shopper's data, erase an account (both with a reason, both in
the audit log), the grace period, and the audit log itself (read-only)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.html import format_html

from social.community import ServiceChangeAdmin

from . import services
from .models import AuditEntry, DataExport, ErasureRequest, PrivacySettings


@admin.register(PrivacySettings)
class PrivacySettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "erasure_grace_days", "updated_at"]

    def has_add_permission(self, request):
        return not PrivacySettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class StaffExportForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=300, help_text="Why you export this shopper's data (kept in the audit log)."
    )

    class Meta:
        model = DataExport
        fields = ["user"]


class RequestAdmin(ServiceChangeAdmin):
    """A request staff make once and never edit: adding one shows ``add_form`` with
    ``add_fields`` and hands it to the subclass's ``request_create(form, staff)``, which calls
    the app's service and returns the created row; afterwards every field is read-only and the
    request can be neither changed nor deleted (the audit log keeps it)."""

    add_form: type[forms.ModelForm]
    add_fields: list[str] = []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = self.request_create(form, request.user)
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataExport)
class DataExportAdmin(RequestAdmin):
    """Adding an export here asks for the shopper's data as staff; the archive is built by the
    same task as the shopper's own, and the download link works for staff with view
    permission on exports."""

    list_display = ["user", "status", "created_at", "expires_at", "requested_by", "download"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "user",
        "requested_by",
        "status",
        "size_bytes",
        "files",
        "error",
        "created_at",
        "finished_at",
        "expires_at",
        "downloaded_at",
        "download",
    ]

    add_form = StaffExportForm
    add_fields = ["user", "reason"]

    @admin.display(description="Download")
    def download(self, obj):
        if obj.pk and obj.is_downloadable:
            return format_html('<a href="{}">Download zip</a>', services.export_download_url(obj))
        return "—"

    def request_create(self, form, staff):
        return services.export_request(
            user=form.cleaned_data["user"], requested_by=staff, reason=form.cleaned_data["reason"]
        )


class StaffErasureForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=300,
        help_text="Why you erase this account (kept in the audit log; do not write the "
        "shopper's name or contact details here).",
    )

    class Meta:
        model = ErasureRequest
        fields = ["user", "keep_content"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].required = True
        self.fields["user"].queryset = get_user_model().objects.filter(is_staff=False)


@admin.register(ErasureRequest)
class ErasureRequestAdmin(RequestAdmin):
    """Adding a request here erases the shopper's account at once (no grace period), through
    the same registry and task as the shopper's own request."""

    list_display = ["pk", "user", "status", "requested_at", "scheduled_for", "completed_at"]
    list_filter = ["status"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "user",
        "requested_by",
        "reason",
        "keep_content",
        "status",
        "requested_at",
        "scheduled_for",
        "completed_at",
        "summary",
        "error",
    ]

    add_form = StaffErasureForm
    add_fields = ["user", "keep_content", "reason"]

    def request_create(self, form, staff):
        return services.erasure_request(
            user=form.cleaned_data["user"],
            requested_by=staff,
            keep_content=form.cleaned_data["keep_content"],
            reason=form.cleaned_data["reason"],
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "subject", "actor", "by_staff", "reason"]
    list_filter = ["action", "by_staff"]
    search_fields = ["subject__email", "actor__email", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
