"""``/api/v1/me/recommendations/``: the caller's picks with the reason of each, read through
``picks_for`` (the same cached decision the pages show)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Shopper

from . import selectors


class PickSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    brand = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    image_url = serializers.CharField()
    image_alt = serializers.CharField()
    reason = serializers.CharField(help_text="The kind of reason (machine-readable).")
    text = serializers.CharField(help_text="Why, in the shopper's words.")


class PicksSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["personal", "popular", "off", "anonymous"],
        help_text="personal: from your profile; popular: no profile yet; off: you turned "
        "personalization off.",
    )
    decision_id = serializers.IntegerField(allow_null=True)
    picks = PickSerializer(many=True)


class MyRecommendationsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=PicksSerializer)
    def get(self, request):
        """Products picked for the caller, each with why (stored with the decision)."""
        picks = selectors.picks_for(request.user)
        return Response(
            PicksSerializer(
                {"mode": picks.mode, "decision_id": picks.decision_id, "picks": picks.cards}
            ).data
        )


urlpatterns = [
    path("me/recommendations/", MyRecommendationsView.as_view(), name="api-me-recommendations"),
]
