"""The product list's filters and sorting, with django-filter."""

import django_filters
from django import forms
from django.db.models import Q

from .models import Product, Variant
from .selectors import catalogue_facets, category_tree, search_products

SORTS = {
    "relevance": ("Best match", None),
    "newest": ("Newest", ["-created_at", "-pk"]),
    "price": ("Price: low to high", ["price", "pk"]),
    "-price": ("Price: high to low", ["-price", "-pk"]),
    "rating": ("Top rated", ["-rating_avg", "-rating_count", "-pk"]),
    "name": ("Name", ["name", "pk"]),
}


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", max_length=200)
    category = django_filters.CharFilter(method="filter_category", label="Category")
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", label="Min price", min_value=0
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", label="Max price", min_value=0
    )
    brand = django_filters.MultipleChoiceFilter(
        method="filter_brand", widget=forms.CheckboxSelectMultiple, label="Brand"
    )
    colour = django_filters.MultipleChoiceFilter(
        method="filter_colour", widget=forms.CheckboxSelectMultiple, label="Colour"
    )
    size = django_filters.MultipleChoiceFilter(
        method="filter_size", widget=forms.CheckboxSelectMultiple, label="Size"
    )
    in_stock = django_filters.BooleanFilter(
        method="filter_in_stock", widget=forms.CheckboxInput, label="In stock only"
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort",
        choices=[(k, v[0]) for k, v in SORTS.items()],
        empty_label=None,
        label="Sort by",
    )

    class Meta:
        model = Product
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        facets = catalogue_facets()  # cached: no query on most requests
        self.filters["brand"].extra["choices"] = facets.brands
        self.filters["colour"].extra["choices"] = [(c, c) for c in facets.colours]
        self.filters["size"].extra["choices"] = [(s, s) for s in facets.sizes]
        if not (self.data.get("q") or "").strip():  # "Best match" means nothing without a search
            self.filters["sort"].extra["choices"] = [
                (k, v[0]) for k, v in SORTS.items() if k != "relevance"
            ]

    def filter_search(self, queryset, name, value):
        return search_products(queryset, value)

    def filter_category(self, queryset, name, value):
        tree = category_tree()
        node = tree.by_slug(value)
        if node is None:
            return queryset.none()
        return queryset.filter(category_id__in=tree.descendant_ids(node))

    def filter_brand(self, queryset, name, value: list[str]):
        return queryset.filter(brand__slug__in=value) if value else queryset

    def filter_colour(self, queryset, name, value: list[str]):
        if not value:
            return queryset
        ids = Variant.objects.filter(colour__in=value).values("product_id")
        return queryset.filter(Q(colour__in=value) | Q(pk__in=ids))

    def filter_size(self, queryset, name, value: list[str]):
        if not value:
            return queryset
        return queryset.filter(pk__in=Variant.objects.filter(size__in=value).values("product_id"))

    def filter_in_stock(self, queryset, name, value):
        return queryset.in_stock() if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset  # applied last, in ``ordered``

    def ordered(self, queryset):
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        sort = data.get("sort") or ("relevance" if data.get("q") else "newest")
        if sort == "relevance" and not data.get("q"):
            sort = "newest"
        ordering = SORTS.get(sort, SORTS["newest"])[1]
        if ordering is None:  # relevance
            if "rank" in queryset.query.annotations:
                return queryset.order_by("-rank", "-pk")
            return queryset.order_by("-rating_avg", "-pk")
        return queryset.order_by(*ordering)
