"""``/api/v1/staff/``: staff endpoints, behind the same Django permissions as the admin."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, Sum
from django.urls import path
from rest_framework import generics, serializers

from .permissions import Staff

User = get_user_model()


class CustomerSerializer(serializers.ModelSerializer):
    orders_count = serializers.IntegerField(read_only=True)
    total_spent = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    last_order_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "date_joined",
            "last_login",
            "is_active",
            "orders_count",
            "total_spent",
            "last_order_at",
        ]


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Email or name contains", max_length=100)
    joined_after = django_filters.IsoDateTimeFilter(field_name="date_joined", lookup_expr="gte")
    has_orders = django_filters.BooleanFilter(method="filter_has_orders")

    class Meta:
        model = User
        fields = ["is_active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
        )

    def filter_has_orders(self, queryset, name, value):
        return queryset.filter(orders_count__gt=0) if value else queryset.filter(orders_count=0)


def customers():
    """Shoppers (not staff) with their order figures, one query per page."""
    return User.objects.filter(is_staff=False).annotate(
        orders_count=Count("orders"),
        total_spent=Sum("orders__total"),
        last_order_at=Max("orders__created_at"),
    )


class CustomerList(generics.ListAPIView):
    """Customers with order count, total spent and last order; filter by ``q``, join date,
    ``has_orders``, ``is_active``."""

    permission_classes = [Staff]
    staff_permissions = ["auth.view_user"]
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering = ("-date_joined", "-id")
    queryset = User.objects.none()

    def get_queryset(self):
        return customers()


class CustomerDetail(generics.RetrieveAPIView):
    """One customer with their order figures."""

    permission_classes = [Staff]
    staff_permissions = ["auth.view_user"]
    serializer_class = CustomerSerializer
    queryset = User.objects.none()

    def get_queryset(self):
        return customers()


urlpatterns = [
    path("staff/customers/", CustomerList.as_view(), name="api-staff-customers"),
    path("staff/customers/<int:pk>/", CustomerDetail.as_view(), name="api-staff-customer"),
]
