from django.contrib import admin

from personalization.admin import ReadOnlyAdmin

from .models import PickDecision, ProductPair, ProductPopularity


@admin.register(PickDecision)
class PickDecisionAdmin(ReadOnlyAdmin):
    """Decisions are written when picks are chosen; staff read them (the "why" of a pick)."""

    list_display = ["decided_at", "user", "mode", "strategy"]
    list_filter = ["mode", "decided_at"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    show_full_result_count = False


@admin.register(ProductPair)
class ProductPairAdmin(ReadOnlyAdmin):
    """Rebuilt hourly from the event log; see docs/recommendations.md."""

    list_display = ["product", "other", "co_purchases", "co_likes", "score"]
    raw_id_fields = ["product", "other"]
    search_fields = ["product__name"]
    show_full_result_count = False


@admin.register(ProductPopularity)
class ProductPopularityAdmin(ReadOnlyAdmin):
    list_display = ["product", "category", "purchases", "likes", "views", "score"]
    list_filter = ["category"]
    raw_id_fields = ["product"]
    search_fields = ["product__name"]
    show_full_result_count = False
