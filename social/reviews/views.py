"""Review and product question pages. Thin: parse input, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from shop.models import Product
from social.community import submit_form

from . import selectors, services
from .exceptions import ReviewError
from .forms import AnswerForm, QuestionForm, ReportForm, ReviewForm
from .models import Review


def _product(slug) -> Product:
    return get_object_or_404(Product.objects.visible().select_related("brand"), slug=slug)


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
def review_write(request, slug):
    """Write a review, or edit yours: one review per shopper per product."""
    product = _product(slug)
    mine = selectors.review_of(user=request.user, product=product)
    initial = {"rating": mine.rating, "title": mine.title, "body": mine.body} if mine else None
    form = ReviewForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        edit = mine is not None and request.POST.get("mode") != "new"

        def save(data):
            if edit:
                return services.review_update(
                    user=request.user,
                    review_id=mine.pk,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    photos=data["photos"],
                    remove_photo_ids=request.POST.getlist("remove_photo"),
                )
            return services.review_create(
                user=request.user,
                product=product,
                rating=data["rating"],
                title=data["title"],
                body=data["body"],
                photos=data["photos"],
            )

        review, status = submit_form(form, save, error=ReviewError)
        if review is not None:
            if review.status == Review.Status.APPROVED:
                messages.success(request, "Thank you: your review is published.")
            else:
                messages.info(
                    request, "Thank you: your review will appear once a moderator checks it."
                )
            return redirect(product.get_absolute_url() + "#reviews")
    context = {"product": product, "form": form, "review": mine}
    return render(request, "reviews/review_form.html", context, status=status)


@login_required
@require_POST
def review_delete(request, pk):
    review = get_object_or_404(Review.objects.select_related("product"), pk=pk)
    services.review_delete(user=request.user, review_id=review.pk)
    messages.success(request, "Your review was deleted.")
    return redirect(review.product.get_absolute_url() + "#reviews")


@login_required
@require_POST
def review_helpful(request, pk):
    try:
        count = services.review_vote_helpful(user=request.user, review_id=pk)
    except ReviewError as error:
        if request.htmx:
            return render(
                request,
                "reviews/_helpful.html",
                {"review_id": pk, "count": None, "voted": True, "error": str(error)},
                status=error.status_code,
            )
        raise
    if request.htmx:
        return render(
            request, "reviews/_helpful.html", {"review_id": pk, "count": count, "voted": True}
        )
    messages.success(request, "Thanks for your vote.")
    review = get_object_or_404(Review.objects.select_related("product"), pk=pk)
    return redirect(review.product.get_absolute_url() + f"#review-{pk}")


@login_required
def review_report(request, pk):
    review = get_object_or_404(Review.objects.approved().select_related("product", "author"), pk=pk)
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        report, status = submit_form(
            form,
            lambda data: services.review_report(
                user=request.user, review_id=pk, reason=data["reason"]
            ),
            error=ReviewError,
        )
        if report is not None:
            messages.success(request, "Thank you: a moderator will look at this review.")
            return redirect(review.product.get_absolute_url() + "#reviews")
    return render(
        request, "reviews/report_form.html", {"review": review, "form": form}, status=status
    )


@login_required
@require_POST
def review_reply(request, pk):
    if not request.user.is_staff:
        raise Http404
    review = services.review_reply(review_id=pk, actor=request.user, text=request.POST.get("reply"))
    messages.success(request, "Your reply is saved.")
    return redirect(Product.objects.get(pk=review.product_id).get_absolute_url() + f"#review-{pk}")


@login_required
@require_POST
def question_ask(request, slug):
    product = _product(slug)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        raise ReviewError(_form_errors(form))
    services.question_ask(user=request.user, product=product, text=form.cleaned_data["text"])
    messages.success(request, "Your question is posted: shoppers and staff can answer it.")
    return redirect(product.get_absolute_url() + "#questions")


@login_required
@require_POST
def question_answer(request, pk):
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise ReviewError(_form_errors(form))
    answer = services.question_answer(
        user=request.user, question_id=pk, text=form.cleaned_data["text"]
    )
    product = Product.objects.get(pk=answer.question.product_id)
    messages.success(request, "Thank you for your answer.")
    return redirect(product.get_absolute_url() + f"#question-{pk}")
