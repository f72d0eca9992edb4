"""CRM admin pages that are not a model's change list: dashboard, influence, duplicates."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from . import merging, sections, selectors
from .exceptions import CrmError

User = get_user_model()


def staff_choices():
    return list(User.objects.filter(is_staff=True, is_active=True).order_by("email"))


def _context(request, title, **extra):
    from .models import Customer

    return {
        **admin.site.each_context(request),
        "opts": Customer._meta,
        "title": title,
        **extra,
    }


class RangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if (end - start).days > 3 * 366:
                raise forms.ValidationError("Choose at most three years.")
        return data


PRESETS = [("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365)]


def dashboard(request):
    if not request.user.has_perm("crm.view_dashboard"):
        raise PermissionDenied
    today = timezone.now().date()
    default = {"start": today - timedelta(days=29), "end": today}
    form = RangeForm(request.GET or None, initial=default)
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        start, end = default["start"], default["end"]
        if not request.GET:
            form = RangeForm(initial=default)
    panels = []
    for panel in sections.panels():
        data = panel.context(start=start, end=end)
        if data is not None:
            panels.append({"panel": panel, "data": data})
    presets = [(label, (today - timedelta(days=days - 1)).isoformat()) for label, days in PRESETS]
    status = 400 if request.GET and not form.is_valid() else 200
    return TemplateResponse(
        request,
        "crm/dashboard.html",
        _context(
            request,
            "CRM dashboard",
            form=form,
            start=start,
            end=end,
            panels=panels,
            presets=presets,
            today=today,
        ),
        status=status,
    )


INFLUENCE_COLUMNS = {
    "total": ("inf_total", "Influence points"),
    "visits": ("inf_visits", "Visits"),
    "signups": ("inf_signups", "Sign-ups"),
    "orders": ("inf_orders", "Orders"),
    "revenue": ("inf_revenue", "Revenue"),
    "shares": ("inf_shares", "Shares"),
    "review_likes": ("inf_review_likes", "Likes on reviews"),
    "helpful": ("inf_helpful", "Helpful votes"),
}


def influential(request):
    """Most influential customers, sortable by any part (``?o=orders`` or ``?o=-orders``)."""
    if not (
        request.user.has_perm("crm.view_customer") or request.user.has_perm("crm.view_dashboard")
    ):
        raise PermissionDenied
    order = request.GET.get("o", "total")
    key = order.lstrip("-")
    if key not in INFLUENCE_COLUMNS:
        key, order = "total", "total"
    ascending = order.startswith("-")
    field = INFLUENCE_COLUMNS[key][0]
    rows = list(
        selectors.influence_table()
        .order_by(field if ascending else f"-{field}", "pk")
        .only("email", "first_name", "last_name")[:100]
    )
    columns = [
        {
            "key": k,
            "label": label,
            "sorted": k == key,
            "ascending": ascending and k == key,
            "next": (k if (k == key and not ascending) else f"-{k}") if k == key else k,
        }
        for k, (_, label) in INFLUENCE_COLUMNS.items()
    ]
    return TemplateResponse(
        request,
        "crm/influential.html",
        _context(
            request,
            "Most influential customers",
            rows=rows,
            columns=columns,
            can_open=request.user.has_perm("crm.view_customer"),
        ),
    )


def duplicates(request):
    if not request.user.has_perm("crm.merge_customer"):
        raise PermissionDenied
    pairs = selectors.duplicate_pairs()
    users = User.objects.in_bulk({p.first_id for p in pairs} | {p.second_id for p in pairs})
    rows = [(p, users.get(p.first_id), users.get(p.second_id)) for p in pairs]
    return TemplateResponse(
        request, "crm/duplicates.html", _context(request, "Likely duplicate customers", rows=rows)
    )


def merge(request, first: int, second: int):
    """Confirm, then merge: the POST names the account to keep."""
    if not request.user.has_perm("crm.merge_customer"):
        raise PermissionDenied
    a = get_object_or_404(selectors.customers(), pk=first)
    b = get_object_or_404(selectors.customers(), pk=second)
    if request.method == "POST":
        keep_id = request.POST.get("keep", "")
        if keep_id not in {str(a.pk), str(b.pk)}:
            messages.error(request, "Choose which account to keep.")
        else:
            keep, drop = (a, b) if keep_id == str(a.pk) else (b, a)
            try:
                moved = merging.customer_merge(keep=keep, drop=drop, actor=request.user)
            except CrmError as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(reverse("admin:crm_duplicates"))
            messages.success(
                request,
                f"Merged {drop.email} into {keep.email}: {sum(moved.values())} rows moved.",
            )
            return HttpResponseRedirect(reverse("admin:crm_customer_change", args=[keep.pk]))
    from django.db.models import Count

    counts = {
        u.pk: u
        for u in User.objects.filter(pk__in=[a.pk, b.pk]).annotate(
            n_orders=Count("orders", distinct=True),
            n_reviews=Count("reviews", distinct=True),
        )
    }
    return TemplateResponse(
        request,
        "crm/merge.html",
        _context(
            request, "Merge two customers", people=[counts[a.pk], counts[b.pk]], first=a, second=b
        ),
    )
