"""Reviews and questions (``/api/v1/``): the reviews services behind DRF, same rules as the
product page (verified buyers, moderation, one review per product, rate limits)."""

import django_filters
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import Public, Shopper
from shop.exceptions import ProductUnavailable
from shop.models import Product

from . import selectors, services
from .models import Answer, Question, Review


def _product(slug: str) -> Product:
    product = Product.objects.visible().filter(slug=slug).first()
    if product is None:
        raise ProductUnavailable("That product does not exist or is no longer sold.")
    return product


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "rating",
            "title",
            "body",
            "author",
            "verified_buyer",
            "helpful_count",
            "status",
            "reply",
            "reply_at",
            "created_at",
            "edited_at",
            "photos",
        ]

    def get_author(self, obj) -> str:
        return selectors.display_name(obj.author)

    def get_photos(self, obj) -> list[str]:
        return [photo.image.url for photo in obj.photos.all()]


class ReviewWriteSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=services.TITLE_MAX)
    body = serializers.CharField(max_length=services.BODY_MAX)


class ReviewFilter(django_filters.FilterSet):
    stars = django_filters.NumberFilter(field_name="rating", min_value=1, max_value=5)
    sort = django_filters.ChoiceFilter(
        choices=[(k, v[0]) for k, v in selectors.SORTS.items()], method="filter_sort"
    )

    class Meta:
        model = Review
        fields = []

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*selectors.SORTS[selectors.parse_sort(value)][1])


class ProductReviews(generics.ListAPIView):
    """Approved reviews of a product (newest first; ``sort``: newest, helpful, highest, lowest;
    ``stars``: 1–5). POST writes the caller's review: published at once or held for moderation
    by the store's policy (``status`` says which)."""

    permission_classes = [Public]
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    queryset = Review.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.reviews_for_product(_product(self.kwargs["slug"]))

    @extend_schema(
        request=ReviewWriteSerializer,
        responses={201: ReviewSerializer},
        examples=[
            OpenApiExample(
                "A review",
                value={"rating": 5, "title": "Lovely", "body": "Soft, warm and well made."},
                request_only=True,
            )
        ],
    )
    def post(self, request, slug: str):
        data = ReviewWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(
            user=request.user, product=_product(slug), **data.validated_data
        )
        review = Review.objects.for_display().get(pk=review.pk)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewDetail(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=ReviewWriteSerializer, responses=ReviewSerializer)
    def patch(self, request, review_id: int):
        """Edit your review (it may go back to moderation, as on the page)."""
        data = ReviewWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_update(user=request.user, review_id=review_id, **data.validated_data)
        return Response(ReviewSerializer(Review.objects.for_display().get(pk=review_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, review_id: int):
        """Delete your review."""
        services.review_delete(user=request.user, review_id=review_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HelpfulSerializer(serializers.Serializer):
    helpful_count = serializers.IntegerField()


class ReviewHelpful(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=None, responses=HelpfulSerializer)
    def post(self, request, review_id: int):
        """Mark someone else's review helpful (once: 409 already_voted)."""
        count = services.review_vote_helpful(user=request.user, review_id=review_id)
        return Response({"helpful_count": count})


class ReportSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReviewReport(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=ReportSerializer, responses={201: None})
    def post(self, request, review_id: int):
        """Report a review to the moderators (once per shopper)."""
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_report(
            user=request.user, review_id=review_id, reason=data.validated_data["reason"]
        )
        return Response(status=status.HTTP_201_CREATED)


class AnswerSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["id", "text", "author", "by_staff", "created_at"]

    def get_author(self, obj) -> str:
        return selectors.display_name(obj.author)


class QuestionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "text", "author", "created_at", "answers"]

    def get_author(self, obj) -> str:
        return selectors.display_name(obj.author)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class ProductQuestions(APIView):
    permission_classes = [Public]

    @extend_schema(responses=QuestionSerializer(many=True))
    def get(self, request, slug: str):
        """The product's latest questions (up to 20) with their visible answers."""
        questions = selectors.questions_for_product(_product(slug), limit=20)
        return Response(QuestionSerializer(questions, many=True).data)

    @extend_schema(
        request=TextSerializer,
        responses={201: QuestionSerializer},
        examples=[OpenApiExample("Ask", value={"text": "Does it run small?"}, request_only=True)],
    )
    def post(self, request, slug: str):
        """Ask a question about the product."""
        data = TextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = services.question_ask(
            user=request.user, product=_product(slug), text=data.validated_data["text"]
        )
        question = Question.objects.select_related("author").get(pk=question.pk)
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)


class QuestionAnswers(APIView):
    permission_classes = [Shopper]

    @extend_schema(request=TextSerializer, responses={201: AnswerSerializer})
    def post(self, request, question_id: int):
        """Answer a question."""
        data = TextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = services.question_answer(
            user=request.user, question_id=question_id, text=data.validated_data["text"]
        )
        answer = Answer.objects.select_related("author").get(pk=answer.pk)
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("products/<slug:slug>/reviews/", ProductReviews.as_view(), name="api-product-reviews"),
    path(
        "products/<slug:slug>/questions/",
        ProductQuestions.as_view(),
        name="api-product-questions",
    ),
    path("reviews/<int:review_id>/", ReviewDetail.as_view(), name="api-review"),
    path("reviews/<int:review_id>/helpful/", ReviewHelpful.as_view(), name="api-review-helpful"),
    path("reviews/<int:review_id>/report/", ReviewReport.as_view(), name="api-review-report"),
    path(
        "questions/<int:question_id>/answers/",
        QuestionAnswers.as_view(),
        name="api-question-answers",
    ),
]
