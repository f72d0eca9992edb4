"""REST API for likes and shares: the same services as the pages, under /api/engagement/."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from personalization import events

from . import likeable, selectors, services
from .app_settings import site_url
from .exceptions import EngagementError
from .models import ShareChannel


class TargetSerializer(serializers.Serializer):
    target = serializers.SlugField(help_text="A registered kind: product, review, topic…")
    object_id = serializers.IntegerField(min_value=1)


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


def _error(error: EngagementError) -> Response:
    return Response({"detail": str(error)}, status=error.status_code)


def _state(entry, obj, user) -> dict:
    summary = selectors.like_summary(obj, viewer=user)
    return {
        "target": entry.key,
        "object_id": obj.pk,
        "liked": summary.liked,
        "count": summary.count if summary.show_count else None,
    }


class LikesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=LikeSerializer(many=True))
    def get(self, request):
        """The signed-in shopper's likes, newest first (latest 100)."""
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

    @extend_schema(request=TargetSerializer, responses=LikeStateSerializer)
    def post(self, request):
        """Like an item (idempotent: 201 when new, 200 when it was already liked)."""
        serializer = TargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            data = serializer.validated_data
            entry, obj = likeable.resolve(data["target"], data["object_id"])
            created = services.like_add(user=request.user, obj=obj)
        except EngagementError as error:
            return _error(error)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_state(entry, obj, request.user), status=code)


class LikeView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(responses=LikeStateSerializer)
    def get(self, request, target, object_id):
        """An item's like count (when shown) and whether the caller likes it."""
        try:
            entry, obj = likeable.resolve(target, object_id)
        except EngagementError as error:
            return _error(error)
        return Response(_state(entry, obj, request.user))

    @extend_schema(responses=LikeStateSerializer)
    def delete(self, request, target, object_id):
        """Withdraw the caller's like (idempotent)."""
        try:
            entry, obj = likeable.resolve(target, object_id)
        except EngagementError as error:
            return _error(error)
        services.like_remove(user=request.user, obj=obj)
        return Response(_state(entry, obj, request.user))


class SharesView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=ShareRequestSerializer, responses=ShareSerializer)
    def post(self, request):
        """Record a share and get the tracked link (with its referral code) to share."""
        serializer = ShareRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signed_in = request.user.is_authenticated
        try:
            _, obj = likeable.resolve(data["target"], data["object_id"])
            link = services.share_record(
                obj=obj,
                channel=data["channel"],
                user=request.user if signed_in else None,
                anon_id="" if signed_in else events.anonymous_id(request),
            )
        except EngagementError as error:
            return _error(error)
        url = site_url() + link.get_absolute_url()
        return Response({"url": url, "code": link.code, "channel": link.channel}, status=201)


urlpatterns = [
    path("likes/", LikesView.as_view(), name="api-engagement-likes"),
    path("likes/<slug:target>/<int:object_id>/", LikeView.as_view(), name="api-engagement-like"),
    path("shares/", SharesView.as_view(), name="api-engagement-shares"),
]
