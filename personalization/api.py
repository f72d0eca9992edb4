"""``/api/v1/me/interests/`` and ``/api/v1/me/personalization/``: the "Your interests" page's
reads and choices through the same selectors and services."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Shopper

from . import selectors, services


class InterestSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    value = serializers.CharField()
    label = serializers.CharField()
    share = serializers.FloatField(help_text="Strength relative to the dimension's top (0–1].")


class InterestsSerializer(serializers.Serializer):
    personalization_enabled = serializers.BooleanField()
    interests = InterestSerializer(many=True)
    removed = InterestSerializer(many=True)


class PersonalizationSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class InterestsView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=InterestsSerializer)
    def get(self, request):
        """What the store believes the caller likes (top 8 per dimension) and what they removed."""
        enabled = selectors.personalization_enabled(user=request.user)
        profile = selectors.profile_for(request.user) if enabled else None
        interests = []
        if profile:
            for dimension in selectors.DIMENSION_LABELS:
                interests.extend(profile.interests.get(dimension, [])[:8])
        removed = selectors.removed_interests(user=request.user)
        data = {
            "personalization_enabled": enabled,
            "interests": [vars(i) for i in interests],
            "removed": [vars(i) for i in removed],
        }
        return Response(InterestsSerializer(data).data)


class InterestView(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, dimension: str, value: str):
        """Remove an interest; later builds leave it out too."""
        services.interest_remove(user=request.user, dimension=dimension, value=value)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    def put(self, request, dimension: str, value: str):
        """Undo a removal (400 when it was not removed)."""
        services.interest_restore(user=request.user, dimension=dimension, value=value)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonalizationView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=PersonalizationSerializer)
    def get(self, request):
        """Whether personalization is on for the caller."""
        return Response({"enabled": selectors.personalization_enabled(user=request.user)})

    @extend_schema(request=PersonalizationSerializer, responses=PersonalizationSerializer)
    def put(self, request):
        """Turn personalization on or off (off deletes the interest profile)."""
        data = PersonalizationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choice = services.personalization_set_enabled(
            user=request.user, enabled=data.validated_data["enabled"]
        )
        return Response({"enabled": choice.personalization_enabled})


urlpatterns = [
    path("me/interests/", InterestsView.as_view(), name="api-me-interests"),
    path(
        "me/interests/<slug:dimension>/<str:value>/",
        InterestView.as_view(),
        name="api-me-interest",
    ),
    path("me/personalization/", PersonalizationView.as_view(), name="api-me-personalization"),
]
