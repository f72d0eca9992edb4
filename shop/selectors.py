"""Read-side queries for the catalogue, used by views, the API and the admin."""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Q, QuerySet

from config.aftercommit import cache_fill

from .models import Brand, Category, Order, Product, Variant

CATEGORY_TREE_KEY = "shop:category_tree"
FACETS_KEY = "shop:facets"


@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    children: list["CategoryNode"] = field(default_factory=list)


@dataclass
class CategoryTree:
    nodes: dict[int, CategoryNode]
    roots: list[CategoryNode]

    def by_slug(self, slug: str) -> CategoryNode | None:
        return next((n for n in self.nodes.values() if n.slug == slug), None)

    def descendant_ids(self, node: CategoryNode) -> list[int]:
        ids, stack = [], [node]
        while stack:
            current = stack.pop()
            ids.append(current.id)
            stack.extend(current.children)
        return ids

    def ancestors(self, node_id: int) -> list[CategoryNode]:
        chain, current = [], self.nodes.get(node_id)
        while current is not None:
            chain.append(current)
            current = self.nodes.get(current.parent_id) if current.parent_id else None
        return list(reversed(chain))


def category_tree() -> CategoryTree:
    """All categories as a tree: one query, then cached until a category changes."""
    tree = cache.get(CATEGORY_TREE_KEY)
    if tree is None:
        nodes = {
            c.id: CategoryNode(id=c.id, name=c.name, slug=c.slug, parent_id=c.parent_id)
            for c in Category.objects.order_by("position", "name")
        }
        roots = []
        for node in nodes.values():
            if node.parent_id and node.parent_id in nodes:
                nodes[node.parent_id].children.append(node)
            else:
                roots.append(node)
        tree = CategoryTree(nodes=nodes, roots=roots)
        cache_fill(CATEGORY_TREE_KEY, tree, 3600)
    return tree


@dataclass
class Facets:
    colours: list[str]
    sizes: list[str]
    brands: list[tuple[str, str]]  # (slug, name) of brands that have visible products


def catalogue_facets() -> Facets:
    """The filter choices for the product list: three queries, then cached until the catalogue
    changes (``shop.services.catalogue_changed``)."""
    facets = cache.get(FACETS_KEY)
    if facets is None:
        variants = Variant.objects.filter(product__is_active=True)
        facets = Facets(
            colours=sorted(set(variants.exclude(colour="").values_list("colour", flat=True))),
            sizes=sorted(
                set(variants.exclude(size="").values_list("size", flat=True)), key=_size_key
            ),
            brands=list(
                Brand.objects.filter(products__is_active=True)
                .distinct()
                .order_by("name")
                .values_list("slug", "name")
            ),
        )
        cache_fill(FACETS_KEY, facets, 600)
    return facets


SIZE_ORDER = ["XXS", "XS", "S", "M", "L", "XL", "XXL"]


def _size_key(size: str):
    if size in SIZE_ORDER:
        return (0, SIZE_ORDER.index(size), "")
    if size.isdigit():
        return (1, int(size), "")
    return (2, 0, size)


_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(text: str) -> list[str]:
    return _WORD.findall(text.lower())[:10]


def search_products(queryset: QuerySet, text: str) -> QuerySet:
    """Full-text search with ranking and prefix matching on PostgreSQL; a simple AND of
    substring matches elsewhere. Returns the queryset filtered (and ranked when possible)."""
    terms = search_terms(text)
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(
            " & ".join(f"{t}:*" for t in terms), search_type="raw", config="english"
        )
        return queryset.filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query)
        )
    for term in terms:
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(brand__name__icontains=term)
            | Q(category__name__icontains=term)
            | Q(description__icontains=term)
            | Q(colour__icontains=term)
            | Q(style__icontains=term)
        )
    return queryset


def product_for_page(*, slug: str) -> Product | None:
    return (
        Product.objects.visible()
        .select_related("brand", "category")
        .prefetch_related("images", "variants")
        .filter(slug=slug)
        .first()
    )


def related_products(product: Product, *, limit: int = 8) -> list[Product]:
    return list(
        Product.objects.visible()
        .for_cards()
        .filter(category_id=product.category_id)
        .exclude(pk=product.pk)
        .order_by("-rating_avg", "-pk")[:limit]
    )


def orders_for_user(user) -> QuerySet:
    return (
        Order.objects.filter(user=user)
        .select_related("shipping_method")
        .prefetch_related("lines", "discounts")
        .order_by("-created_at")
    )
