"""django-import-export resources: customers, tags and customer tags (segment members come
from ``crm.optional_segments`` when the segments app is installed)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from import_export import fields, resources, widgets

from .models import Customer, CustomerTag, Tag


class CustomerResource(resources.ModelResource):
    """Customers by email: a known email updates the name, an unknown one creates a shopper
    without a password (they set one with "forgot password")."""

    class Meta:
        model = Customer
        fields = ("email", "first_name", "last_name", "date_joined")
        export_order = fields
        import_id_fields = ("email",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def get_queryset(self):
        return Customer.objects.filter(is_staff=False).order_by("pk")

    def before_import_row(self, row, **kwargs):
        email = (row.get("email") or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError({"email": f"Not an email address: {row.get('email')!r}"}) from exc
        row["email"] = email
        if "date_joined" in row and not row["date_joined"]:
            del row["date_joined"]

    def before_save_instance(self, instance, row, **kwargs):
        if instance.is_staff:
            raise ValidationError("Staff accounts cannot be changed by an import.")
        if not instance.username:
            base = instance.email.split("@")[0][:120]
            username, n = base, 1
            while get_user_model().objects.filter(username=username).exists():
                n += 1
                username = f"{base}{n}"
            instance.username = username
            instance.set_unusable_password()


class TagResource(resources.ModelResource):
    class Meta:
        model = Tag
        fields = ("name", "slug", "colour")
        import_id_fields = ("slug",)
        skip_unchanged = True


class CustomerTagResource(resources.ModelResource):
    email = fields.Field(
        attribute="user",
        column_name="email",
        widget=widgets.ForeignKeyWidget(get_user_model(), "email"),
    )
    tag = fields.Field(
        attribute="tag", column_name="tag", widget=widgets.ForeignKeyWidget(Tag, "slug")
    )

    class Meta:
        model = CustomerTag
        fields = ("email", "tag", "added_at")
        import_id_fields = ("email", "tag")
        skip_unchanged = True

    def get_queryset(self):
        return CustomerTag.objects.select_related("user", "tag").order_by("pk")


RESOURCES = {
    "customers": CustomerResource,
    "tags": TagResource,
    "customer_tags": CustomerTagResource,
}


def register_resource(key: str, resource_class) -> None:
    """Let a feature (segments) add an exportable resource for background exports."""
    RESOURCES[key] = resource_class
