from django.contrib import admin, messages

from social.community import ServiceChangeAdmin

from .exceptions import ForumError
from .models import (
    ForumBan,
    ForumCategory,
    ModerationLog,
    Notification,
    Post,
    PostReport,
    Subscription,
    Topic,
)
from .services import (
    post_hide,
    report_resolve,
    topic_moderate,
    topic_move,
    user_ban,
    user_unban,
)


@admin.register(ForumCategory)
class ForumCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "topic_count", "post_count"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["topic_count", "post_count"]


@admin.register(Topic)
class TopicAdmin(ServiceChangeAdmin):
    list_display = [
        "title",
        "category",
        "author",
        "post_count",
        "is_pinned",
        "is_locked",
        "is_hidden",
        "last_post_at",
    ]
    list_filter = ["category", "is_pinned", "is_locked", "is_hidden"]
    search_fields = ["title", "author__email"]
    list_select_related = ["category", "author"]
    raw_id_fields = ["author", "last_poster"]
    readonly_fields = ["post_count", "last_post_at", "last_poster", "created_at"]
    actions = ["lock", "unlock", "pin", "unpin", "hide", "unhide"]
    FLAG_ACTIONS = {"is_locked": "lock", "is_pinned": "pin", "is_hidden": "hide"}

    def save_model(self, request, obj, form, change):
        """Lock, pin, hide and move go through the services (moderation log, counts)."""
        if not change:
            return super().save_model(request, obj, form, change)
        changed = set(form.changed_data)
        moderated = changed & ({"category"} | set(self.FLAG_ACTIONS))
        if changed - moderated:
            obj.save(update_fields=sorted(changed - moderated))
        for field, action in self.FLAG_ACTIONS.items():
            if field in changed:
                verb = action if getattr(obj, field) else "un" + action
                topic_moderate(actor=request.user, topic_id=obj.pk, action=verb)
        if "category" in changed:
            topic_move(actor=request.user, topic_id=obj.pk, category=obj.category)

    def _apply(self, request, queryset, action):
        for pk in queryset.values_list("pk", flat=True):
            topic_moderate(actor=request.user, topic_id=pk, action=action)
        self.message_user(request, f"{action.capitalize()}: done.", messages.SUCCESS)

    @admin.action(description="Lock selected topics")
    def lock(self, request, queryset):
        self._apply(request, queryset, "lock")

    @admin.action(description="Unlock selected topics")
    def unlock(self, request, queryset):
        self._apply(request, queryset, "unlock")

    @admin.action(description="Pin selected topics")
    def pin(self, request, queryset):
        self._apply(request, queryset, "pin")

    @admin.action(description="Unpin selected topics")
    def unpin(self, request, queryset):
        self._apply(request, queryset, "unpin")

    @admin.action(description="Hide selected topics")
    def hide(self, request, queryset):
        self._apply(request, queryset, "hide")

    @admin.action(description="Unhide selected topics")
    def unhide(self, request, queryset):
        self._apply(request, queryset, "unhide")


@admin.register(Post)
class PostAdmin(ServiceChangeAdmin):
    list_display = [
        "__str__",
        "topic",
        "author",
        "created_at",
        "is_hidden",
        "is_deleted",
        "sentiment",
    ]
    list_filter = ["is_hidden", "is_deleted", "created_at"]
    search_fields = ["body", "author__email", "topic__title"]
    list_select_related = ["topic", "author"]

    # Posts are written, edited and deleted in the forum, through the one permission rule
    # (services.post_write_refusal): the admin moderates by hiding, so the text, the author and
    # the topic are read-only here and posts cannot be added or deleted from it (adding or
    # deleting a row here skipped the rule, the numbering, the counts and the rendering).
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Post._meta.concrete_fields if f.name not in {"id", "is_hidden"}]

    actions = ["hide_posts"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Hiding goes through the service (reports resolved, moderation log)."""
        changed = set(form.changed_data)
        if not change or changed - {"is_hidden"}:
            super().save_model(request, obj, form, change)
        if change and "is_hidden" in changed:
            post_hide(actor=request.user, post_id=obj.pk, hidden=obj.is_hidden)

    @admin.action(description="Hide selected posts")
    def hide_posts(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            post_hide(actor=request.user, post_id=pk)
        self.message_user(request, "Hidden.", messages.SUCCESS)


@admin.register(PostReport)
class PostReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first."""

    list_display = ["post", "reporter", "reason", "created_at", "resolved"]
    list_filter = ["resolved"]
    list_select_related = ["post", "reporter"]
    raw_id_fields = ["post", "reporter"]
    actions = ["hide_reported_posts", "dismiss"]

    @admin.action(description="Hide the reported posts")
    def hide_reported_posts(self, request, queryset):
        for post_id in set(queryset.values_list("post_id", flat=True)):
            post_hide(actor=request.user, post_id=post_id)
        self.message_user(request, "Posts hidden, reports resolved.", messages.SUCCESS)

    @admin.action(description="Dismiss selected reports")
    def dismiss(self, request, queryset):
        try:
            for pk in queryset.values_list("pk", flat=True):
                report_resolve(actor=request.user, report_id=pk)
        except ForumError as error:
            self.message_user(request, str(error), messages.ERROR)


@admin.register(ForumBan)
class ForumBanAdmin(ServiceChangeAdmin):
    """Bans go through the service: staff cannot be banned, and every ban is logged."""

    list_display = ["user", "reason", "until", "banned_by", "created_at"]
    raw_id_fields = ["user"]
    fields = ["user", "reason", "until"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj else []

    def save_model(self, request, obj, form, change):
        ban = user_ban(actor=request.user, user=obj.user, reason=obj.reason)
        if ban.until != obj.until:
            ban.until = obj.until
            ban.save(update_fields=["until"])
        obj.pk = ban.pk

    def delete_model(self, request, obj):
        user_unban(actor=request.user, user=obj.user)

    def delete_queryset(self, request, queryset):
        for ban in queryset.select_related("user"):
            user_unban(actor=request.user, user=ban.user)


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "topic", "post", "target_user", "note"]
    list_filter = ["action"]
    list_select_related = ["actor", "topic", "post", "target_user"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "topic", "category", "email", "created_at"]
    raw_id_fields = ["user", "topic", "category"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "post", "actor", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "post", "actor"]
