"""The CRM in the Django admin: customers (list and 360 page), notes, tasks, tags, the audit
log and exports. Pages beyond a model's change list live in ``crm.admin_views``."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from shop.money import money

from . import admin_views, sections, selectors, services, timeline
from .exceptions import CrmError
from .models import AuditEntry, Customer, CustomerTag, ExportJob, Note, Tag, Task
from .resources import CustomerResource, CustomerTagResource, TagResource


class CrmImportExportMixin(ImportExportMixin):
    """Import with a preview (import-export's dry run shows row errors before anything is
    written); exports are audited, and large ones run in Celery and arrive as a link."""

    formats = [CSV, XLSX]
    export_key = ""
    import_perm = ""
    export_perm = ""

    def has_import_permission(self, request):
        return request.user.has_perm(self.import_perm)

    def has_export_permission(self, request):
        return request.user.has_perm(self.export_perm)

    def process_import(self, request, **kwargs):
        response = super().process_import(request, **kwargs)
        services.audit_record(
            actor=request.user, action=AuditEntry.Action.IMPORT, resource=self.export_key
        )
        return response

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        count = queryset.count()
        fmt = "xlsx" if isinstance(file_format, XLSX) else "csv"
        if count > services.export_rows_limit():
            ids = list(queryset.values_list("pk", flat=True))
            job = services.export_start(
                actor=request.user, resource=self.export_key, file_format=fmt, ids=ids
            )
            url = reverse("admin:crm_exportjob_changelist")
            self.message_user(
                request,
                format_html(
                    "{} rows are being exported in the background: the download link appears "
                    'on <a href="{}">Exports</a> (job {}) in a moment.',
                    f"{count:,}",
                    url,
                    job.pk,
                ),
                messages.INFO,
            )
            return HttpResponseRedirect(url)
        services.audit_record(
            actor=request.user,
            action=AuditEntry.Action.EXPORT,
            resource=self.export_key,
            rows=count,
            background=False,
        )
        return super()._do_file_export(file_format, request, queryset, export_form=export_form)


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return list(Tag.objects.values_list("slug", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(crm_tags__tag__slug=self.value())
        return queryset


@admin.register(Customer)
class CustomerAdmin(CrmImportExportMixin, admin.ModelAdmin):
    """The customer list; a customer's "change" page is the read-only 360 page."""

    resource_classes = [CustomerResource]
    export_key = "customers"
    import_perm = "crm.import_customer"
    export_perm = "crm.export_customer"
    list_display = ["email", "full_name", "orders", "spent", "last_purchase", "date_joined"]
    list_display_links = ["email"]
    search_fields = ["email", "first_name", "last_name", "username"]
    list_filter = [TagFilter, "is_active"]
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-pk"]  # newest first, by the primary key index (date_joined has none)
    change_list_template = "crm/customer_changelist.html"

    def get_queryset(self, request):
        return selectors.customers().select_related(None).select_related("preference_profile")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:  # an email: match it alone, from the start
            return queryset.filter(email__istartswith=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj):
        return f"{obj.first_name} {obj.last_name}".strip() or "—"

    def _profile(self, obj):
        try:
            return obj.preference_profile
        except Exception:  # no profile yet
            return None

    @admin.display(description="orders", ordering="preference_profile__order_count")
    def orders(self, obj):
        p = self._profile(obj)
        return p.order_count if p else 0

    @admin.display(description="spent", ordering="preference_profile__monetary")
    def spent(self, obj):
        p = self._profile(obj)
        return money(p.monetary if p else 0)

    @admin.display(description="last purchase", ordering="preference_profile__last_purchase_at")
    def last_purchase(self, obj):
        p = self._profile(obj)
        return p.last_purchase_at.date() if p and p.last_purchase_at else "—"

    def has_add_permission(self, request):
        return False  # shoppers sign up themselves; imports create them in bulk

    def has_delete_permission(self, request, obj=None):
        return False  # erasure belongs to the privacy app, merges to the duplicates page

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(admin_views.dashboard), name="crm_dashboard"),
            path("influential/", wrap(admin_views.influential), name="crm_influential"),
            path("duplicates/", wrap(admin_views.duplicates), name="crm_duplicates"),
            path("merge/<int:first>/<int:second>/", wrap(admin_views.merge), name="crm_merge"),
            path("<int:pk>/note/", wrap(self.note_view), name="crm_customer_note"),
            path("<int:pk>/task/", wrap(self.task_view), name="crm_customer_task"),
            path("<int:pk>/tag/", wrap(self.tag_view), name="crm_customer_tag"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        customer = self.get_object(request, object_id)
        if customer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        services.audit_record(
            actor=request.user, action=AuditEntry.Action.VIEW_360, customer=customer
        )
        try:
            page = int(request.GET.get("page", "1"))
        except ValueError:
            page = 1
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": customer.email,
            "subtitle": "Customer 360",
            "customer": customer,
            "columns": sections.filled(customer=customer, request=request),
            "timeline": timeline.timeline_page(user_id=customer.pk, page=page),
            "tags": Tag.objects.all() if request.user.has_perm("crm.add_customertag") else [],
            "staff": admin_views.staff_choices(),
            "today": timezone.now().date(),
        }
        return TemplateResponse(request, "crm/customer_360.html", context)

    def _customer_for_post(self, request, pk, perm):
        if request.method != "POST":
            raise Http404
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(selectors.customers(), pk=pk)

    def _back(self, pk, anchor="work"):
        return HttpResponseRedirect(
            reverse("admin:crm_customer_change", args=[pk]) + f"#crm-{anchor}"
        )

    def note_view(self, request, pk):
        customer = self._customer_for_post(request, pk, "crm.add_note")
        try:
            services.note_add(customer=customer, author=request.user, body=request.POST.get("body"))
            self.message_user(request, "Note added.")
        except CrmError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return self._back(pk)

    def task_view(self, request, pk):
        from django.contrib.auth import get_user_model
        from django.utils.dateparse import parse_date

        customer = self._customer_for_post(request, pk, "crm.add_task")
        due = parse_date(request.POST.get("due_on") or "")
        assignee_id = request.POST.get("assignee") or ""
        assignee = (
            get_user_model().objects.filter(pk=assignee_id, is_staff=True).first()
            if assignee_id.isdigit()
            else None
        )
        try:
            if due is None:
                raise CrmError("Give the task a due date (YYYY-MM-DD).")
            if assignee_id and assignee is None:
                raise CrmError("Choose a staff member to assign the task to.")
            services.task_add(
                customer=customer,
                created_by=request.user,
                title=request.POST.get("title"),
                due_on=due,
                assignee=assignee,
            )
            self.message_user(request, "Task added.")
        except CrmError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return self._back(pk)

    def tag_view(self, request, pk):
        customer = self._customer_for_post(request, pk, "crm.add_customertag")
        try:
            if request.POST.get("remove"):
                if not request.user.has_perm("crm.delete_customertag"):
                    raise PermissionDenied
                tag = get_object_or_404(Tag, slug=request.POST["remove"])
                services.tag_remove(customer=customer, tag=tag)
            else:
                name = request.POST.get("name", "")
                tag = Tag.objects.filter(slug=name).first()
                if tag is None:
                    if not request.user.has_perm("crm.add_tag"):
                        raise CrmError("Choose an existing tag.")
                    tag = services.tag_get_or_create(name=name)
                services.tag_add(customer=customer, tag=tag, added_by=request.user)
        except CrmError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return self._back(pk, "identity")


@admin.register(Tag)
class TagAdmin(CrmImportExportMixin, admin.ModelAdmin):
    resource_classes = [TagResource]
    export_key = "tags"
    import_perm = "crm.add_tag"
    export_perm = "crm.view_tag"
    list_display = ["name", "slug", "badge", "created_at"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="badge")
    def badge(self, obj):
        return format_html(
            '<span class="crm-tag" style="background:{}">{}</span>', obj.colour, obj.name
        )


@admin.register(CustomerTag)
class CustomerTagAdmin(CrmImportExportMixin, admin.ModelAdmin):
    resource_classes = [CustomerTagResource]
    export_key = "customer_tags"
    import_perm = "crm.add_customertag"
    export_perm = "crm.export_customer"
    list_display = ["user", "tag", "added_by", "added_at"]
    list_filter = ["tag"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "added_by"]
    list_select_related = ["user", "tag", "added_by"]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "author", "short"]
    search_fields = ["customer__email", "body"]
    raw_id_fields = ["customer"]
    exclude = ["author"]
    list_select_related = ["customer", "author"]

    @admin.display(description="note")
    def short(self, obj):
        return obj.body[:80]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "Me")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(assignee=request.user)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", "Open"), ("0", "Done")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "0":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Follow-ups. "My open tasks" is this list filtered to ``?mine=1&open=1``."""

    list_display = ["title", "customer", "due_on", "assignee", "state"]
    list_filter = [AssignedFilter, OpenFilter, "due_on"]
    search_fields = ["title", "customer__email"]
    raw_id_fields = ["customer"]
    exclude = ["created_by"]
    list_select_related = ["customer", "assignee"]
    actions = ["mark_done"]

    @admin.display(description="state", ordering=F("done_at").asc(nulls_first=True))
    def state(self, obj):
        if obj.done_at:
            return "done"
        return "overdue" if obj.due_on < timezone.now().date() else "open"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark the selected tasks done", permissions=["change"])
    def mark_done(self, request, queryset):
        done = sum(
            services.task_complete(task_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{done} task(s) marked done.")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Readable by the Admin role only (``crm.view_auditentry``); nobody edits it."""

    list_display = ["at", "actor", "action", "customer", "detail"]
    list_filter = ["action", "at"]
    search_fields = ["actor__email", "customer__email"]
    list_select_related = ["actor", "customer"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "resource", "file_format", "rows", "status", "download"]
    list_filter = ["status", "resource"]
    list_select_related = ["requested_by"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.has_perm("crm.view_auditentry"):
            return qs
        return qs.filter(requested_by=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="file")
    def download(self, obj):
        if obj.status != ExportJob.Status.DONE:
            return obj.error or "—"
        url = reverse("admin:crm_exportjob_download", args=[obj.pk])
        return format_html('<a href="{}">Download</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="crm_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        job = get_object_or_404(self.get_queryset(request), pk=pk, status=ExportJob.Status.DONE)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
        )
