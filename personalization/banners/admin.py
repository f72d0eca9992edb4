"""Banners in the admin: variants inline, figures per variant with significance, pick winner."""

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html, format_html_join

from . import services
from .exceptions import BannerError
from .models import Banner, BannerDecision, BannerVariant
from .stats import banner_figures


class VariantForm(forms.ModelForm):
    """A creative; a new image is checked as the API checks it (``banner_image_check``)."""

    class Meta:
        model = BannerVariant
        fields = list(BannerVariant.CREATIVE_FIELDS)  # the same list as the API's

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            try:
                services.banner_image_check(image)
            except BannerError as error:
                raise forms.ValidationError(str(error)) from None
            image.seek(0)
        return image


class VariantInline(admin.StackedInline):
    model = BannerVariant
    form = VariantForm
    extra = 1
    readonly_fields = ["impressions", "clicks"]


@admin.register(Banner)
class BannerAdmin(admin.ModelAdmin):
    list_display = ["name", "placement", "priority", "is_active", "starts_at", "ends_at"]
    list_filter = ["placement", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["segments", "categories"]
    inlines = [VariantInline]
    readonly_fields = ["figures", "winner_picked_at"]
    actions = ["pick_winner"]

    @admin.display(description="Results per variant")
    def figures(self, obj):
        if obj.pk is None:
            return "-"
        rows = []
        for f in banner_figures(obj):
            ctr = f"{f.ctr:.2%}" if f.ctr is not None else "-"
            if f.p_value is None:
                sig = "control" if f.variant.is_control else "not enough data (30 views each)"
            else:
                verdict = "significant" if f.p_value < 0.05 else "not significant"
                sig = f"z = {f.z:.2f}, p = {f.p_value:.3f} ({verdict} at 5%)"
            rows.append(
                (f.variant.name, f.variant.weight, f.impressions, f.clicks, ctr, f.orders, sig)
            )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            "<table><thead><tr><th>Variant</th><th>Weight</th><th>Impressions</th><th>Clicks</th>"
            "<th>CTR</th><th>Orders (7 days after a click)</th><th>Against control "
            "(two-proportion z-test)</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.action(description="Pick the winner (best click-through rate) of each banner")
    def pick_winner(self, request, queryset):
        for banner in queryset:
            figures = [f for f in banner_figures(banner) if f.ctr is not None]
            if not figures:
                messages.warning(request, f"{banner.name}: no views yet.")
                continue
            best = max(figures, key=lambda f: f.ctr)
            try:
                services.banner_pick_winner(banner=banner, variant=best.variant)
            except BannerError as error:
                messages.error(request, str(error))
                continue
            messages.success(
                request, f"{banner.name}: variant {best.variant.name} now gets all traffic."
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.banners_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.banners_changed()


@admin.register(BannerDecision)
class BannerDecisionAdmin(admin.ModelAdmin):
    list_display = ["chosen_at", "banner", "variant", "user", "reason", "segment", "clicked_at"]
    list_filter = ["reason", "placement"]
    raw_id_fields = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
