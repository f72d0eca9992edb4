"""Forums (``/api/v1/forums/``): categories, topics, posts and subscriptions through the forum
services (sanitized Markdown, mentions, bans, locks, edit window and rate limits apply)."""

import django_filters
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Public, Shopper

from . import selectors, services
from .exceptions import NotFound
from .models import ForumCategory, Post, Subscription, Topic


class ForumCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ForumCategory
        fields = ["id", "name", "slug", "description", "topic_count", "post_count"]


class TopicSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    last_poster = serializers.CharField(
        source="last_poster.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Topic
        fields = [
            "id",
            "title",
            "category",
            "author",
            "is_locked",
            "is_pinned",
            "post_count",
            "last_post_at",
            "last_poster",
            "created_at",
        ]


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id",
            "number",
            "author",
            "body",
            "body_html",
            "created_at",
            "edited_at",
            "is_hidden",
            "is_deleted",
        ]

    def _shown(self, obj) -> bool:
        return not (obj.is_hidden or obj.is_deleted)

    def get_body(self, obj) -> str:
        return obj.body if self._shown(obj) else ""

    def get_body_html(self, obj) -> str:
        return obj.body_html if self._shown(obj) else ""


class TopicFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", max_length=80)

    class Meta:
        model = Topic
        fields = []


class TopicCreateSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="slug", queryset=ForumCategory.objects.all())
    title = serializers.CharField(max_length=140)
    body = serializers.CharField(max_length=10000)


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class CategoryList(generics.ListAPIView):
    """Forum categories."""

    permission_classes = [Public]
    serializer_class = ForumCategorySerializer
    pagination_class = None
    filter_backends = []
    queryset = ForumCategory.objects.none()

    def get_queryset(self):
        return selectors.categories()


class TopicList(generics.ListAPIView):
    """Visible topics, most recently active first; ``category`` filters by slug. POST starts a
    topic with its first post."""

    permission_classes = [Public]
    serializer_class = TopicSerializer
    filterset_class = TopicFilter
    ordering = ("-last_post_at", "-pk")
    queryset = Topic.objects.none()

    def get_queryset(self):
        return Topic.objects.visible().select_related("author", "last_poster", "category")

    @extend_schema(
        request=TopicCreateSerializer,
        responses={201: TopicSerializer},
        examples=[
            OpenApiExample(
                "New topic",
                value={"category": "general", "title": "Care tips", "body": "How do you…"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = TopicCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topic = services.topic_create(user=request.user, **data.validated_data)
        topic = Topic.objects.select_related("author", "last_poster", "category").get(pk=topic.pk)
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)


def _topic(request, topic_id) -> Topic:
    topic = selectors.topic_for_page(pk=topic_id, user=request.user)
    if topic is None:
        raise NotFound("This topic does not exist.")
    return topic


class TopicDetail(APIView):
    permission_classes = [Public]

    @extend_schema(responses=TopicSerializer)
    def get(self, request, topic_id: int):
        """One topic (hidden ones only for moderators)."""
        return Response(TopicSerializer(_topic(request, topic_id)).data)


class TopicPosts(generics.ListAPIView):
    """A topic's posts in order (hidden and deleted posts keep their place, without text).
    POST replies (403 topic_locked, banned; 429 rate_limited)."""

    permission_classes = [Public]
    serializer_class = PostSerializer
    filter_backends = []
    ordering = ("number",)
    queryset = Post.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        return selectors.posts_for_topic(_topic(self.request, self.kwargs["topic_id"]))

    @extend_schema(request=BodySerializer, responses={201: PostSerializer})
    def post(self, request, topic_id: int):
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.post_create(
            user=request.user, topic_id=topic_id, body=data.validated_data["body"]
        )
        post = Post.objects.select_related("author").get(pk=post.pk)
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)


class PostDetail(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=BodySerializer, responses=PostSerializer)
    def patch(self, request, post_id: int):
        """Edit your post within the edit window."""
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.post_edit(
            user=request.user, post_id=post_id, body=data.validated_data["body"]
        )
        return Response(PostSerializer(Post.objects.select_related("author").get(pk=post.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, post_id: int):
        """Delete your post (it keeps its place, without text)."""
        services.post_delete(user=request.user, post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionSerializer(serializers.ModelSerializer):
    topic = serializers.IntegerField(source="topic_id", allow_null=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Subscription
        fields = ["id", "topic", "category", "email", "created_at"]


class SubscriptionSetSerializer(serializers.Serializer):
    email = serializers.BooleanField(required=False, help_text="Also email new posts.")


class SubscriptionList(generics.ListAPIView):
    """The topics and categories the caller follows."""

    permission_classes = [Shopper]
    serializer_class = SubscriptionSerializer
    filter_backends = []
    ordering = ("-created_at", "-pk")
    queryset = Subscription.objects.none()

    def get_queryset(self):
        return Subscription.objects.filter(user=self.request.user).select_related("category")


class TopicSubscription(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=SubscriptionSetSerializer, responses=SubscriptionSerializer)
    def put(self, request, topic_id: int):
        """Follow a topic (idempotent)."""
        data = SubscriptionSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topic = _topic(request, topic_id)
        services.subscription_set(
            user=request.user, topic=topic, on=True, email=data.validated_data.get("email")
        )
        subscription = selectors.subscription_for(user=request.user, topic=topic)
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, topic_id: int):
        """Stop following a topic (idempotent)."""
        services.subscription_set(user=request.user, topic=_topic(request, topic_id), on=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("forums/categories/", CategoryList.as_view(), name="api-forum-categories"),
    path("forums/topics/", TopicList.as_view(), name="api-forum-topics"),
    path("forums/topics/<int:topic_id>/", TopicDetail.as_view(), name="api-forum-topic"),
    path("forums/topics/<int:topic_id>/posts/", TopicPosts.as_view(), name="api-forum-posts"),
    path(
        "forums/topics/<int:topic_id>/subscription/",
        TopicSubscription.as_view(),
        name="api-forum-topic-subscription",
    ),
    path("forums/posts/<int:post_id>/", PostDetail.as_view(), name="api-forum-post"),
    path("forums/subscriptions/", SubscriptionList.as_view(), name="api-forum-subscriptions"),
]
