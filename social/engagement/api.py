"""Likes, shares, public profiles and follows (``/api/v1/``): the engagement services behind
DRF. Errors are raised and become problem details in one place (api.problems)."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Anyone, Public, Shopper
from personalization import events

from . import likeable, selectors, services
from .app_settings import site_url
from .models import ShareChannel


class TargetSerializer(serializers.Serializer):
    target = serializers.SlugField(help_text="A registered kind: product, review, topic…")
    object_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class LikeSerializer(serializers.Serializer):
    target = serializers.CharField()
    object_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    liked_at = serializers.DateTimeField()


class LikeStateSerializer(serializers.Serializer):
    target = serializers.CharField()
    object_id = serializers.IntegerField()
    liked = serializers.BooleanField()
    count = serializers.IntegerField(allow_null=True, help_text="Null below the minimum shown.")


class ShareRequestSerializer(TargetSerializer):
    channel = serializers.ChoiceField(choices=ShareChannel.choices)


class ShareSerializer(serializers.Serializer):
    url = serializers.CharField()
    code = serializers.CharField()
    channel = serializers.CharField()


def _state(entry, obj, user) -> dict:
    summary = selectors.like_summary(obj, viewer=user)
    return {
        "target": entry.key,
        "object_id": obj.pk,
        "liked": summary.liked,
        "count": summary.count if summary.show_count else None,
    }


class LikesView(APIView):
    permission_classes = [Shopper]

    @extend_schema(responses=LikeSerializer(many=True))
    def get(self, request):
        """The caller's likes, newest first (latest 100; hidden items drop out)."""
        items = selectors.hydrate(selectors.likes_of(request.user)[:100])
        data = [
            {
                "target": item.entry.key,
                "object_id": item.obj.pk,
                "title": item.title,
                "url": site_url() + item.url,
                "liked_at": item.like.created_at,
            }
            for item in items
        ]
        return Response(LikeSerializer(data, many=True).data)

    @extend_schema(
        request=TargetSerializer,
        responses={200: LikeStateSerializer, 201: LikeStateSerializer},
        examples=[OpenApiExample("Like a product", value={"target": "product", "object_id": 7})],
    )
    def post(self, request):
        """Like an item (idempotent: 201 when new, 200 when it was already liked)."""
        serializer = TargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry, obj = likeable.resolve(data["target"], data["object_id"])
        created = services.like_add(user=request.user, obj=obj)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_state(entry, obj, request.user), status=code)


class LikeView(APIView):
    permission_classes = [Public]

    @extend_schema(responses=LikeStateSerializer)
    def get(self, request, target: str, object_id: int):
        """An item's like count (when shown) and whether the caller likes it."""
        entry, obj = likeable.resolve(target, object_id)
        return Response(_state(entry, obj, request.user))

    @extend_schema(responses=LikeStateSerializer)
    def delete(self, request, target: str, object_id: int):
        """Withdraw the caller's like (idempotent)."""
        entry, obj = likeable.resolve(target, object_id)
        services.like_remove(user=request.user, obj=obj)
        return Response(_state(entry, obj, request.user))


class SharesView(APIView):
    permission_classes = [Anyone]

    @extend_schema(
        request=ShareRequestSerializer,
        responses={201: ShareSerializer},
        examples=[
            OpenApiExample(
                "Share on X", value={"target": "product", "object_id": 7, "channel": "x"}
            )
        ],
    )
    def post(self, request):
        """Record a share and get the tracked link (with its referral code) to share."""
        serializer = ShareRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signed_in = request.user.is_authenticated
        _, obj = likeable.resolve(data["target"], data["object_id"])
        link = services.share_record(
            obj=obj,
            channel=data["channel"],
            user=request.user if signed_in else None,
            anon_id="" if signed_in else events.anonymous_id(request),
        )
        url = site_url() + link.get_absolute_url()
        return Response({"url": url, "code": link.code, "channel": link.channel}, status=201)


class ProfileSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    url = serializers.CharField()
    followers = serializers.IntegerField()
    following = serializers.IntegerField()
    followed_by_me = serializers.BooleanField()


def _profile_data(profile, viewer) -> dict:
    counts = selectors.follow_counts(profile.user)
    return {
        "handle": profile.handle,
        "display_name": profile.name,
        "bio": profile.bio,
        "url": site_url() + profile.get_absolute_url(),
        "followers": counts["followers"],
        "following": counts["following"],
        "followed_by_me": selectors.is_following(viewer=viewer, user=profile.user),
    }


class ProfileView(APIView):
    permission_classes = [Public]

    @extend_schema(responses=ProfileSerializer)
    def get(self, request, handle: str):
        """A public profile (or the caller's own), with follower counts."""
        profile = selectors.profile_for_page(handle=handle, viewer=request.user)
        return Response(_profile_data(profile, request.user))


class FollowView(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=None, responses={200: ProfileSerializer, 201: ProfileSerializer})
    def put(self, request, handle: str):
        """Follow a shopper with a public profile (idempotent: 201 new, 200 already)."""
        created = services.follow(follower=request.user, handle=handle)
        profile = selectors.profile_for_page(handle=handle, viewer=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_profile_data(profile, request.user), status=code)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, handle: str):
        """Stop following (idempotent)."""
        services.unfollow(follower=request.user, handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("likes/", LikesView.as_view(), name="api-engagement-likes"),
    path("likes/<slug:target>/<int:object_id>/", LikeView.as_view(), name="api-engagement-like"),
    path("shares/", SharesView.as_view(), name="api-engagement-shares"),
    path("profiles/<slug:handle>/", ProfileView.as_view(), name="api-profile"),
    path("profiles/<slug:handle>/follow/", FollowView.as_view(), name="api-profile-follow"),
]
