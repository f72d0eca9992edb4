"""The moderation queue for reviews: pending first, reports alongside, actions call services."""

from django import forms
from django.contrib import admin, messages

from social.community import ServiceChangeAdmin

from .models import Answer, Question, Review, ReviewPhoto, ReviewReport
from .services import review_moderate, review_reply

REJECT_REASONS = {
    "spam": "Spam or advertising",
    "offtopic": "Not about the product",
    "abuse": "Offensive or abusive language",
    "personal": "Contains personal data",
}


class ReviewPhotoInline(admin.TabularInline):
    model = ReviewPhoto
    extra = 0


class ReviewReportInline(admin.TabularInline):
    model = ReviewReport
    extra = 0
    fields = ["reporter", "reason", "created_at", "resolved"]
    readonly_fields = ["reporter", "reason", "created_at"]


class ReviewAdminForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = ["status", "rejection_reason", "reply"]

    def clean(self):
        data = super().clean()
        if data.get("status") == Review.Status.REJECTED and not data.get("rejection_reason"):
            self.add_error("rejection_reason", "Give a reason when rejecting a review.")
        return data


class OpenReportsFilter(admin.SimpleListFilter):
    title = "reports"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("open", "Has open reports")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(reports__resolved=False).distinct()
        return queryset


@admin.register(Review)
class ReviewAdmin(ServiceChangeAdmin):
    form = ReviewAdminForm

    def changelist_view(self, request, extra_context=None):
        from django.contrib import messages as admin_messages

        from .services import auto_approve_policy, auto_approve_policy_words

        self.message_user(
            request,
            f"Policy in force (AGORA_REVIEWS_AUTO_APPROVE={auto_approve_policy()!r}): "
            f"{auto_approve_policy_words()}",
            admin_messages.INFO,
        )
        return super().changelist_view(request, extra_context)

    list_display = [
        "title",
        "rating",
        "product",
        "author",
        "status",
        "verified_buyer",
        "report_count",
        "helpful_count",
        "sentiment",
        "created_at",
    ]
    list_filter = ["status", OpenReportsFilter, "rating", "verified_buyer", "created_at"]
    search_fields = ["title", "body", "product__name", "author__email"]
    list_select_related = ["product", "author"]
    readonly_fields = [
        "product",
        "author",
        "rating",
        "title",
        "body",
        "verified_buyer",
        "helpful_count",
        "report_count",
        "sentiment",
        "intents",
        "moderated_by",
        "moderated_at",
        "created_at",
        "edited_at",
    ]
    fields = [
        *readonly_fields[:5],
        "status",
        "rejection_reason",
        "reply",
        *readonly_fields[5:],
    ]
    inlines = [ReviewPhotoInline, ReviewReportInline]
    actions = ["approve"]
    ordering = ["status", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # reviews are written by shoppers

    def save_model(self, request, obj, form, change):
        """Staff changes go through the services, so ratings and history stay right; a refusal
        rolls the save back and shows only the error (ServiceChangeAdmin)."""
        if {"status", "rejection_reason"} & set(form.changed_data):
            review_moderate(
                review_id=obj.pk,
                status=obj.status,
                actor=request.user,
                reason=obj.rejection_reason,
            )
        if "reply" in form.changed_data:
            review_reply(review_id=obj.pk, actor=request.user, text=obj.reply)

    @admin.action(description="Approve selected reviews")
    def approve(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            review_moderate(review_id=pk, status=Review.Status.APPROVED, actor=request.user)
        self.message_user(request, "Approved.", messages.SUCCESS)

    def _reject(self, request, queryset, key):
        for pk in queryset.values_list("pk", flat=True):
            review_moderate(
                review_id=pk,
                status=Review.Status.REJECTED,
                actor=request.user,
                reason=REJECT_REASONS[key],
            )
        self.message_user(request, f"Rejected: {REJECT_REASONS[key]}.", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for key, label in REJECT_REASONS.items():

            def action(modeladmin, req, qs, key=key):
                return modeladmin._reject(req, qs, key)

            actions[f"reject_{key}"] = (action, f"reject_{key}", f"Reject: {label.lower()}")
        return actions


@admin.register(ReviewReport)
class ReviewReportAdmin(admin.ModelAdmin):
    list_display = ["review", "reporter", "reason", "created_at", "resolved"]
    list_filter = ["resolved"]
    list_select_related = ["review", "reporter"]
    raw_id_fields = ["review", "reporter"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 1
    fields = ["author", "text", "by_staff", "is_hidden"]
    raw_id_fields = ["author"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "product", "author", "is_hidden", "created_at"]
    list_filter = ["is_hidden"]
    search_fields = ["text", "product__name"]
    raw_id_fields = ["product", "author"]
    inlines = [AnswerInline]
