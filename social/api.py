"""``/api/v1/me/consents/``: what the caller shares, the history, and revoking, through the
consent services (revoking deletes the data at once, as the privacy page does)."""

from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Shopper

from . import consent, selectors, services
from .exceptions import SocialError, UnknownCategory
from .models import ConsentRecord


class GrantNeedsPermissionScreen(SocialError):
    """Granting needs the provider's data: the shopper goes through the permission screen."""

    status_code = 409
    problem_code = "grant_needs_permission_screen"


class ConsentSerializer(serializers.Serializer):
    category = serializers.CharField()
    title = serializers.CharField()
    purpose = serializers.CharField()
    required = serializers.BooleanField()
    granted = serializers.BooleanField()
    held = serializers.CharField(help_text="What the store holds for it, in words.")


class ConsentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentRecord
        fields = ["id", "category", "action", "source", "provider", "policy_version", "created_at"]


class ConsentsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=ConsentSerializer(many=True))
    def get(self, request):
        """Every consent category, whether the caller shares it and what the store holds."""
        granted = selectors.granted_categories(request.user)
        held = selectors.held_data(selectors.social_profile(request.user))
        data = [
            {
                "category": code,
                "title": category.title,
                "purpose": category.purpose,
                "required": category.required,
                "granted": code in granted,
                "held": held.get(code, ""),
            }
            for code, category in consent.CATEGORIES.items()
        ]
        return Response(ConsentSerializer(data, many=True).data)


class ConsentHistoryView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=ConsentRecordSerializer(many=True))
    def get(self, request):
        """Every grant and revocation, newest first (latest 200)."""
        records = selectors.consent_history(request.user)[:200]
        return Response(ConsentRecordSerializer(records, many=True).data)


class ConsentView(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=None, responses={409: None})
    def post(self, request, category: str):
        """Grant a category: needs the social provider's data, so this answers 409
        ``grant_needs_permission_screen`` with the screen's URL in ``detail``."""
        if category not in consent.CATEGORIES:
            raise UnknownCategory("There is no such kind of data.")
        accounts = list(selectors.connected_accounts(request.user)[:1])
        where = (
            reverse("social:permissions", args=[accounts[0].provider])
            if accounts
            else reverse("social:privacy")
        )
        raise GrantNeedsPermissionScreen(
            "Sharing happens on the permission screen, with your social account: "
            f"{request.build_absolute_uri(where)}"
        )

    @extend_schema(request=None, responses=ConsentRecordSerializer)
    def delete(self, request, category: str):
        """Stop sharing a category: its data is deleted now (409 consent_not_granted when it
        was not shared)."""
        record = services.consent_revoke(
            user=request.user, category=category, source=ConsentRecord.Source.PRIVACY_PAGE
        )
        return Response(ConsentRecordSerializer(record).data)


urlpatterns = [
    path("me/consents/", ConsentsView.as_view(), name="api-me-consents"),
    path("me/consents/history/", ConsentHistoryView.as_view(), name="api-me-consent-history"),
    path("me/consents/<slug:category>/", ConsentView.as_view(), name="api-me-consent"),
]
