"""Store pages. Thin: parse input, call a service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from personalization import events
from social.engagement.services import attribute_order
from social.reviews.selectors import review_schema

from . import cart as carts
from . import fragments, order_links
from .checkout import Address, order_place
from .exceptions import OrderLinkExpired, ShopError
from .filters import SORTS, ProductFilter
from .forms import CARD_FIELDS, CheckoutForm
from .lazy import cookieless_for_visitors
from .models import Order, Product, ShippingMethod
from .pricing import QuoteChanged
from .selectors import (
    category_tree,
    orders_for_user,
    product_for_page,
    related_products,
)
from .seo import product_jsonld

ORDERS_IN_SESSION = "order_numbers"


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@cookieless_for_visitors
def home(request):
    cards = Product.objects.visible().for_cards()
    context = {
        "top_rated": list(cards.order_by("-rating_avg", "-rating_count", "-pk")[:8]),
        "new_arrivals": list(cards.order_by("-created_at", "-pk")[:8]),
        "categories": category_tree().roots,
    }
    fragments.cards_html(request, context["top_rated"] + context["new_arrivals"])
    return render(request, "shop/home.html", context)


@cookieless_for_visitors
def product_list(request, slug=None):
    tree = category_tree()
    node = None
    data = request.GET.copy()
    if slug is not None:
        node = tree.by_slug(slug)
        if node is None:
            raise Http404("No such category.")
        data["category"] = slug
    base = Product.objects.visible()
    filterset = ProductFilter(data, queryset=base)
    valid = filterset.is_valid()
    products = filterset.ordered(filterset.qs if valid else base).for_cards()
    paginator = Paginator(products, 24)
    page = paginator.get_page(request.GET.get("page"))
    fragments.cards_html(request, list(page.object_list))  # one cache read for every card
    query = (filterset.form.cleaned_data.get("q") or "") if valid else ""
    if query and page.number == 1:
        events.record_for_request(
            events.Event.Kind.SEARCH, request, query=query[:200], results=paginator.count
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "products": page.object_list,
        "category": node,
        "breadcrumbs": tree.ancestors(node.id) if node else [],
        "subcategories": node.children if node else tree.roots,
        "query": query,
        "querystring": params.urlencode(),
        "sorts": SORTS,
    }
    status = 200 if valid else 400
    if not valid:
        messages.error(request, "Some filters were not valid and were ignored.")
    return render(request, "shop/product_list.html", context, status=status)


@cookieless_for_visitors
def product_detail(request, slug):
    product = product_for_page(slug=slug)
    if product is None:
        raise Http404("No such product.")
    events.record_for_request(events.Event.Kind.VIEW, request, product=product)
    tree = category_tree()
    variants, images = list(product.variants.all()), list(product.images.all())
    related = related_products(product)
    fragments.cards_html(request, related)
    context = {
        "product": product,
        "variants": variants,
        "images": images,
        "breadcrumbs": tree.ancestors(product.category_id),
        "related": related,
        "jsonld": product_jsonld(
            product, images=images, variants=variants, reviews=review_schema(product)
        ),
    }
    return render(request, "shop/product_detail.html", context)


@require_POST
def cart_add(request):
    try:
        quantity = carts.parse_quantity(request.POST.get("quantity", "1"))
        cart = carts.cart_get(request, create=True)
        item = carts.cart_add(
            cart=cart, variant_id=request.POST.get("variant"), quantity=quantity, request=request
        )
    except ShopError as error:
        return _cart_problem(request, error)
    messages.success(request, f"Added {quantity} × {item.variant} to your cart.")
    if request.htmx:
        return render(request, "shop/_cart_badge.html", {"cart_count": carts.cart_count(request)})
    return redirect("shop:cart")


@require_POST
def cart_update(request, item_id):
    cart = carts.cart_get(request)
    try:
        if cart is None:
            raise carts.ProductUnavailable("Your cart is empty.")
        quantity = carts.parse_quantity(request.POST.get("quantity"), allow_zero=True)
        carts.cart_set_quantity(cart=cart, item_id=item_id, quantity=quantity)
    except ShopError as error:
        return _cart_problem(request, error)
    messages.success(request, "Your cart was updated.")
    return redirect("shop:cart")


@require_POST
def cart_remove(request, item_id):
    cart = carts.cart_get(request)
    try:
        if cart is None:
            raise carts.ProductUnavailable("Your cart is empty.")
        carts.cart_remove(cart=cart, item_id=item_id)
    except ShopError as error:
        return _cart_problem(request, error)
    messages.success(request, "The item was removed.")
    return redirect("shop:cart")


def _email_of(request) -> str:
    return request.user.email if request.user.is_authenticated else ""


def _cart_page(request, *, error: str = "", status: int = 200, code_error: str = ""):
    cart = carts.cart_get(request)
    summary = carts.cart_summary(cart)
    quote = carts.cart_quote(cart, user=request.user, email=_email_of(request), summary=summary)
    context = {"summary": summary, "quote": quote, "error": error, "code_error": code_error}
    return render(request, "shop/cart.html", context, status=status)


def _cart_problem(request, error: ShopError):
    """Show the cart with the error, with a 4xx status; nothing in the cart changes."""
    return _cart_page(request, error=str(error), status=error.status_code)


def cart_detail(request):
    return _cart_page(request)


def _back_to(request, default: str) -> str:
    return "shop:checkout" if request.POST.get("next") == "checkout" else default


@require_POST
def cart_code_add(request):
    """Enter a discount code (from the cart or the checkout page)."""
    cart = carts.cart_get(request)
    try:
        if cart is None or not cart.items.exists():
            raise carts.ProductUnavailable("Your cart is empty: add something first.")
        quote = carts.cart_code_add(
            cart=cart,
            code=request.POST.get("code", ""),
            user=request.user,
            email=_email_of(request),
        )
    except ShopError as error:
        if request.POST.get("next") == "checkout":
            return checkout(request, code_error=error)
        return _cart_page(request, code_error=str(error), status=error.status_code)
    added = quote.discounts[-1] if quote.discounts else None
    if added is not None:
        messages.success(request, f"The code {added.code} was applied: {added.label}.")
    return redirect(_back_to(request, "shop:cart"))


@require_POST
def cart_code_remove(request):
    cart = carts.cart_get(request)
    try:
        if cart is None:
            raise carts.ProductUnavailable("Your cart is empty.")
        carts.cart_code_remove(cart=cart, code=request.POST.get("code", ""))
    except ShopError as error:
        return _cart_problem(request, error)
    messages.success(request, "The code was removed.")
    return redirect(_back_to(request, "shop:cart"))


def _shipping_options(quote, form):
    chosen = str(form["shipping_method"].value() or "")
    return [
        {
            "method": method,
            "cost": quote.shipping_costs.get(method.pk),
            "total": quote.total_with(method.pk),
            "checked": chosen == str(method.pk),
        }
        for method in ShippingMethod.objects.filter(is_active=True)
    ]


@sensitive_post_parameters(*CARD_FIELDS)
def checkout(request, code_error: ShopError | None = None):
    cart = carts.cart_get(request)
    summary = carts.cart_summary(cart)
    if not summary.lines:
        messages.info(request, "Your cart is empty: add something before checking out.")
        status = 400 if request.method == "POST" else 200
        return render(request, "shop/cart.html", {"summary": summary}, status=status)
    initial = {}
    if request.user.is_authenticated:
        last = Order.objects.filter(user=request.user).first()
        initial = {"email": request.user.email}
        if last:
            for name in ("full_name", "line1", "line2", "city", "postcode", "country", "phone"):
                initial[name] = getattr(last, name)
    placing = request.method == "POST" and code_error is None
    form = CheckoutForm(request.POST if placing else None, initial=initial)
    status = 200
    changes: list[str] = []
    quote = None
    if code_error is not None:
        status = code_error.status_code
    if placing:
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = order_place(
                    cart=cart,
                    user=request.user,
                    email=data["email"],
                    address=Address(
                        full_name=data["full_name"],
                        line1=data["line1"],
                        line2=data["line2"],
                        city=data["city"],
                        postcode=data["postcode"],
                        country=data["country"],
                        phone=data["phone"],
                    ),
                    shipping_method=data["shipping_method"],
                    card=form.card(),
                    quote_token=data.get("quote") or "",
                )
            except QuoteChanged as error:
                form.add_error(None, str(error))
                changes, quote, status = error.changes, error.quote, error.status_code
            except ShopError as error:
                form.add_error(None, str(error))
                status = error.status_code
            else:
                request.session[ORDERS_IN_SESSION] = [
                    *request.session.get(ORDERS_IN_SESSION, [])[-9:],
                    order.number,
                ]
                # engagement (issue 4): attribute the order to the share link the visit came from
                attribute_order(order=order, request=request)
                return redirect(reverse("shop:order_confirmation", args=[order.number]))
        else:
            status = 400
        summary = carts.cart_summary(cart)
    email = (form.cleaned_data.get("email") if form.is_bound and form.is_valid() else "") or (
        _email_of(request)
    )
    method_id = form["shipping_method"].value()
    try:
        method_id = int(method_id) if method_id else None
    except (TypeError, ValueError):
        method_id = None
    page_quote = carts.cart_quote(
        cart, user=request.user, email=email, shipping_method_id=method_id, summary=summary
    )
    if quote is not None and quote.shipping_method_id is not None:
        page_quote.shipping_method_id = quote.shipping_method_id
    # the page posts back the quote it shows: a confirmation confirms exactly this quote
    if form.is_bound:
        form.data = form.data.copy()
        form.data["quote"] = page_quote.token
    else:
        form.initial["quote"] = page_quote.token
    context = {
        "form": form,
        "summary": summary,
        "quote": page_quote,
        "changes": changes,
        "code_error": str(code_error) if code_error else "",
        "shipping_options": _shipping_options(page_quote, form),
    }
    return render(request, "shop/checkout.html", context, status=status)


def _order_for_viewer(request, number) -> Order:
    order = (
        Order.objects.select_related("shipping_method", "user")
        .prefetch_related("lines__product__images", "discounts", "events")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    own = request.user.is_authenticated and order.user_id == request.user.pk
    in_session = number in request.session.get(ORDERS_IN_SESSION, [])
    if own or in_session or request.user.is_staff:
        return order
    try:
        if order_links.order_link_check(order, request.GET.get("key", "")):
            return order  # the emailed link: this order only, in any browser
    except order_links.LinkExpired:
        raise OrderLinkExpired() from None
    raise Http404("No such order.")


def order_confirmation(request, number):
    order = _order_for_viewer(request, number)
    return render(request, "shop/order_confirmation.html", {"order": order})


def order_detail(request, number):
    order = _order_for_viewer(request, number)
    return render(request, "shop/order_detail.html", {"order": order})


@login_required
def my_orders(request):
    paginator = Paginator(orders_for_user(request.user), 10)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "shop/my_orders.html", {"page": page, "orders": page.object_list})
