"""``/api/v1/me/``: the caller's account, public profile settings and personal access tokens."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from social.engagement import services as engagement_services

from . import selectors, services
from .exceptions import TokenNotAllowed
from .models import PersonalAccessToken, Scope
from .permissions import Shopper, token_of


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    is_staff = serializers.BooleanField()


class MeView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=AccountSerializer)
    def get(self, request):
        """The signed-in account."""
        return Response(AccountSerializer(request.user).data)


class PublicProfileSettingsSerializer(serializers.Serializer):
    handle = serializers.SlugField(max_length=40, required=False)
    display_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=280, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)
    likes_public = serializers.BooleanField(required=False)


class MyProfileView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=PublicProfileSettingsSerializer)
    def get(self, request):
        """The caller's public profile settings (private until they opt in)."""
        profile = engagement_services.profile_get_or_create(user=request.user)
        return Response(PublicProfileSettingsSerializer(profile).data)

    @extend_schema(
        request=PublicProfileSettingsSerializer, responses=PublicProfileSettingsSerializer
    )
    def patch(self, request):
        """Change the public profile settings (the same service as the profile page)."""
        data = PublicProfileSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        from django.core.exceptions import ValidationError

        try:
            profile = engagement_services.profile_update(user=request.user, **data.validated_data)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return Response(PublicProfileSettingsSerializer(profile).data)


class TokenSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = PersonalAccessToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices), min_length=1
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(help_text="Shown once: store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokensView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request):
        """The caller's tokens (never their text), newest first."""
        return Response(TokenSerializer(selectors.tokens_of(request.user)[:100], many=True).data)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: TokenCreatedSerializer},
        examples=[OpenApiExample("Read-only", value={"name": "stock sync", "scopes": ["read"]})],
    )
    def post(self, request):
        """Create a token (from the site's session only: a token cannot mint tokens). The
        response holds the token's text, which is never shown again."""
        if token_of(request) is not None:
            raise TokenNotAllowed("Create tokens from your account (signed in), not with a token.")
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.token_create(user=request.user, **data.validated_data)
        body = {**TokenSerializer(created.token).data, "token": created.raw}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=None, responses=TokenSerializer)
    def delete(self, request, token_id: int):
        """Revoke one of the caller's tokens (idempotent)."""
        token = services.token_revoke(user=request.user, token_id=token_id)
        return Response(TokenSerializer(token).data)


urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("me/profile/", MyProfileView.as_view(), name="api-me-profile"),
    path("me/tokens/", TokensView.as_view(), name="api-me-tokens"),
    path("me/tokens/<int:token_id>/", TokenView.as_view(), name="api-me-token"),
]
