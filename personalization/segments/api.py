"""``/api/v1/staff/segments/``: segments for staff (the admin's Marketing role): list, read,
create, change, delete, and a preview of a rule tree (count and a sample) before saving.

Rule trees are validated by the segments app (``services.segment_save_rules``); a bad tree is a
400 problem whose ``errors`` point at ``#/rules`` with a message naming the bad rule.
"""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import invalid_input
from api.permissions import Staff

from . import selectors, services
from .exceptions import SegmentError
from .models import Segment
from .rules import RuleError

EXAMPLE_RULES = {
    "op": "and",
    "rules": [{"type": "new_shopper", "params": {"days": 30}}],
}


class SegmentSerializer(serializers.ModelSerializer):
    rules = serializers.JSONField(
        help_text='The rule tree: {"op": "and"|"or", "rules": [group or '
        '{"type": <rule type>, "params": {...}}]}.'
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "rules",
            "is_active",
            "is_builtin",
            "version",
            "member_count",
            "refreshed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "is_builtin",
            "version",
            "member_count",
            "refreshed_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"slug": {"validators": []}}  # the service says "taken" as a problem


class PreviewRequestSerializer(serializers.Serializer):
    rules = serializers.JSONField()
    slug = serializers.SlugField(
        required=False, allow_blank=True, help_text="The segment being edited (cycle check)."
    )
    sample = serializers.IntegerField(required=False, min_value=0, max_value=50, default=20)


class SampleMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Active accounts the rules match now.")
    sample = SampleMemberSerializer(many=True)


STAFF = {
    "GET": ["segments.view_segment"],
    "POST": ["segments.add_segment"],
    "PATCH": ["segments.change_segment"],
    "PUT": ["segments.change_segment"],
    "DELETE": ["segments.delete_segment"],
}


class SegmentList(generics.ListCreateAPIView):
    """Segments with their member counts (as of the last refresh), by name."""

    permission_classes = [Staff]
    staff_permissions = STAFF
    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()
    ordering = ("name", "pk")
    filterset_fields = ["is_active", "is_builtin"]

    @extend_schema(
        examples=[
            OpenApiExample(
                "New shoppers",
                value={"name": "New shoppers", "slug": "new-shoppers-30d", "rules": EXAMPLE_RULES},
                request_only=True,
            )
        ]
    )
    def post(self, request, *args, **kwargs):
        """Create a segment; its members are filled by the next refresh (every few minutes)."""
        data = SegmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "rules"}
        with invalid_input(SegmentError, field="rules"):
            segment = services.segment_create(rules=data.validated_data["rules"], **fields)
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetail(generics.RetrieveUpdateDestroyAPIView):
    """One segment."""

    permission_classes = [Staff]
    staff_permissions = STAFF
    serializer_class = SegmentSerializer
    queryset = Segment.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def patch(self, request, *args, **kwargs):
        """Change a segment's name, slug, description, active flag or rules (a rule change
        bumps its version; members follow at the next refresh)."""
        segment = self.get_object()
        data = SegmentSerializer(segment, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "rules"}
        with invalid_input(SegmentError, field="rules"):
            segment = services.segment_update(
                segment_id=segment.pk, rules=data.validated_data.get("rules"), **fields
            )
        return Response(SegmentSerializer(segment).data)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        """Delete a segment (built-in ones are refused: deactivate them)."""
        segment = self.get_object()
        with invalid_input(SegmentError):
            services.segment_delete(segment_id=segment.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentPreview(APIView):
    permission_classes = [Staff]
    staff_permissions = ["segments.view_segment"]

    @extend_schema(
        request=PreviewRequestSerializer,
        responses={200: PreviewSerializer, 400: OpenApiResponse(description="A bad rule.")},
        examples=[
            OpenApiExample("New shoppers", value={"rules": EXAMPLE_RULES}, request_only=True)
        ],
    )
    def post(self, request):
        """How many shoppers a rule tree matches now, and a sample of them (before saving).
        Reads only; POST because the tree is a JSON body."""
        data = PreviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with invalid_input(RuleError, SegmentError, field="rules"):
            count, sample = selectors.segment_preview(
                rules=data.validated_data["rules"],
                slug=data.validated_data.get("slug", ""),
                sample=data.validated_data["sample"],
            )
        return Response(PreviewSerializer({"count": count, "sample": sample}).data)


class SegmentMembers(generics.ListAPIView):
    """The members of a segment as of its last refresh (cursor-paginated)."""

    permission_classes = [Staff]
    staff_permissions = ["segments.view_segment", "auth.view_user"]
    serializer_class = SampleMemberSerializer
    queryset = get_user_model().objects.none()
    ordering = ("pk",)

    def get_queryset(self):
        segment = get_object_or_404(Segment, pk=self.kwargs["pk"])
        return selectors.segment_members(segment).only("pk", "username")


urlpatterns = [
    path("staff/segments/", SegmentList.as_view(), name="api-staff-segments"),
    path("staff/segments/preview/", SegmentPreview.as_view(), name="api-staff-segment-preview"),
    path("staff/segments/<int:pk>/", SegmentDetail.as_view(), name="api-staff-segment"),
    path(
        "staff/segments/<int:pk>/members/",
        SegmentMembers.as_view(),
        name="api-staff-segment-members",
    ),
]
