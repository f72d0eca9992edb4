"""CRM notes and tasks on a customer over the API, for staff with the admin's permissions
(Support: read and add notes, every task action; Admin: everything). Writes go through
``crm.services`` (``note_add``, ``note_update``, ``task_add``, ``task_update`` ...)."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.exceptions import invalid_input
from api.permissions import Staff

from . import services
from .exceptions import CrmError
from .models import Note, Task

User = get_user_model()


class NoteSerializer(serializers.ModelSerializer):
    body = serializers.CharField(max_length=5000)

    class Meta:
        model = Note
        fields = ["id", "customer", "author", "body", "created_at"]
        read_only_fields = ["id", "customer", "author", "created_at"]


class TaskSerializer(serializers.ModelSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_staff=True), allow_null=True, required=False
    )
    done = serializers.BooleanField(required=False, help_text="true closes it, false reopens it.")

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "title",
            "due_on",
            "assignee",
            "created_by",
            "created_at",
            "done",
            "done_at",
        ]
        read_only_fields = ["id", "customer", "created_by", "created_at", "done_at"]

    def to_representation(self, task):
        data = super().to_representation(task)
        data["done"] = task.done_at is not None
        return data


NOTE_PERMS = {
    "GET": ["crm.view_note"],
    "POST": ["crm.add_note"],
    "PATCH": ["crm.change_note"],
    "DELETE": ["crm.delete_note"],
}
TASK_PERMS = {
    "GET": ["crm.view_task"],
    "POST": ["crm.add_task"],
    "PATCH": ["crm.change_task"],
    "DELETE": ["crm.delete_task"],
}


def _customer(pk):
    return get_object_or_404(User.objects.filter(is_staff=False), pk=pk)


class CustomerNotes(generics.ListCreateAPIView):
    """A customer's notes, newest first."""

    permission_classes = [Staff]
    staff_permissions = NOTE_PERMS
    serializer_class = NoteSerializer
    ordering = ("-created_at", "-pk")
    queryset = Note.objects.none()

    def get_queryset(self):
        return Note.objects.filter(customer=_customer(self.kwargs["customer_pk"]))

    @extend_schema(
        responses={201: NoteSerializer},
        examples=[OpenApiExample("Note", value={"body": "Called about a late parcel."})],
    )
    def post(self, request, customer_pk: int):
        """Add a note to the customer, signed by the caller."""
        customer = _customer(customer_pk)
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with invalid_input(CrmError, field="body"):
            note = services.note_add(
                customer=customer, author=request.user, body=data.validated_data["body"]
            )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class NoteDetail(generics.RetrieveUpdateDestroyAPIView):
    """One note."""

    permission_classes = [Staff]
    staff_permissions = NOTE_PERMS
    serializer_class = NoteSerializer
    queryset = Note.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def patch(self, request, *args, **kwargs):
        """Change a note's text."""
        note = self.get_object()
        data = NoteSerializer(note, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "body" in data.validated_data:
            with invalid_input(CrmError, field="body"):
                note = services.note_update(note_id=note.pk, body=data.validated_data["body"])
        return Response(NoteSerializer(note).data)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        """Delete a note."""
        services.note_delete(note_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerTasks(generics.ListCreateAPIView):
    """A customer's tasks: open ones first, earliest due first."""

    permission_classes = [Staff]
    staff_permissions = TASK_PERMS
    serializer_class = TaskSerializer
    ordering = ("due_on", "pk")
    queryset = Task.objects.none()
    filterset_fields = ["assignee"]

    def get_queryset(self):
        return Task.objects.filter(customer=_customer(self.kwargs["customer_pk"]))

    @extend_schema(
        responses={201: TaskSerializer},
        examples=[OpenApiExample("Task", value={"title": "Call back", "due_on": "2026-12-05"})],
    )
    def post(self, request, customer_pk: int):
        """Add a follow-up on the customer (assignee: a staff account, optional)."""
        customer = _customer(customer_pk)
        data = TaskSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "due_on" not in values:
            raise serializers.ValidationError({"due_on": ["This field is required."]})
        with invalid_input(CrmError):
            task = services.task_add(
                customer=customer,
                created_by=request.user,
                title=values["title"],
                due_on=values["due_on"],
                assignee=values.get("assignee"),
            )
            if values.get("done"):
                task = services.task_update(task_id=task.pk, done=True)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskDetail(generics.RetrieveUpdateDestroyAPIView):
    """One task."""

    permission_classes = [Staff]
    staff_permissions = TASK_PERMS
    serializer_class = TaskSerializer
    queryset = Task.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def patch(self, request, *args, **kwargs):
        """Change a task's title, due date or assignee; ``done`` closes or reopens it."""
        task = self.get_object()
        data = TaskSerializer(task, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with invalid_input(CrmError):
            task = services.task_update(task_id=task.pk, **data.validated_data)
        return Response(TaskSerializer(task).data)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        """Delete a task."""
        services.task_delete(task_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path(
        "staff/customers/<int:customer_pk>/notes/",
        CustomerNotes.as_view(),
        name="api-staff-customer-notes",
    ),
    path("staff/notes/<int:pk>/", NoteDetail.as_view(), name="api-staff-note"),
    path(
        "staff/customers/<int:customer_pk>/tasks/",
        CustomerTasks.as_view(),
        name="api-staff-customer-tasks",
    ),
    path("staff/tasks/<int:pk>/", TaskDetail.as_view(), name="api-staff-task"),
]
