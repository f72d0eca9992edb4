"""Forum pages. Thin: parse input, call a service or selector, render."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.redirects import redirect_next
from shop.models import Product
from social.community import submit_form

from . import rendering, selectors, services
from .exceptions import ForumError
from .forms import BanForm, MoveForm, PostForm, ReportForm, TopicForm
from .models import ForumCategory, Post


def index(request):
    context = {
        "categories": list(selectors.categories()),
        "recent": selectors.recent_topics(user=request.user),
    }
    return render(request, "forums/index.html", context)


def category_detail(request, slug):
    category = get_object_or_404(ForumCategory, slug=slug)
    paginator = Paginator(
        selectors.topics_for_category(category, user=request.user), selectors.topics_per_page()
    )
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "category": category,
        "page": page,
        "topics": page.object_list,
        "subscribed": selectors.subscription_for(user=request.user, category=category),
    }
    return render(request, "forums/category.html", context)


@login_required
def topic_new(request, slug):
    category = get_object_or_404(ForumCategory, slug=slug)
    form = TopicForm(request.POST or None)
    status = 200
    if request.method == "POST":
        topic, status = submit_form(
            form,
            lambda data: services.topic_create(
                user=request.user, category=category, title=data["title"], body=data["body"]
            ),
            error=ForumError,
        )
        if topic is not None:
            messages.success(request, "Your topic is posted.")
            return redirect(topic)
    context = {"category": category, "form": form, "ban": selectors.active_ban(request.user)}
    return render(request, "forums/topic_new.html", context, status=status)


def _topic_context(request, topic, *, form=None):
    user = request.user
    paginator = Paginator(selectors.posts_for_topic(topic), selectors.posts_per_page())
    page = paginator.get_page(request.GET.get("page"))
    posts = list(page.object_list)
    # Reading moves the read position by a POST the page sends once shown (topic_read): a
    # GET never writes.
    previous = selectors.read_marker(user=user, topic=topic)
    products = selectors.products_for_posts(posts)
    ban = selectors.active_ban(user)
    banned = ban is not None
    urls = selectors.profile_urls_for_posts(posts)
    Action = services.PostAction
    for post in posts:
        post.unread = bool(
            user.is_authenticated and previous is not None and post.created_at > previous
        )
        post.products = [products[pk] for pk in post.mentioned_products if pk in products]
        post.html = rendering.link_mentions(post.body_html, urls)
        # What the page offers is what the one rule allows (services.post_write_refusal).
        allowed = {
            action
            for action in (Action.QUOTE, Action.EDIT, Action.DELETE, Action.REPORT)
            if services.can_write(post, user, action, topic=topic, ban=ban)
        }
        post.quotable = Action.QUOTE in allowed
        post.editable = Action.EDIT in allowed
        post.deletable = Action.DELETE in allowed
        post.reportable = Action.REPORT in allowed and post.author_id != user.pk
    if form is None:
        initial = {}
        quote_id = request.GET.get("quote", "")
        if quote_id.isdigit():
            quoted = next((p for p in posts if p.pk == int(quote_id)), None) or (
                Post.objects.filter(pk=quote_id, topic=topic).select_related("author").first()
            )
            if quoted and services.can_write(quoted, user, Action.QUOTE, topic=topic, ban=ban):
                initial["body"] = rendering.quote(quoted.body, author="@" + quoted.author.username)
        form = PostForm(initial=initial)
    moderator = services.is_moderator(user)
    return {
        "topic": topic,
        "category": topic.category,
        "page": page,
        "posts": posts,
        "form": form,
        "subscribed": selectors.subscription_for(user=user, topic=topic),
        "moderator": moderator,
        "move_form": MoveForm(initial={"category": topic.category_id}) if moderator else None,
        "banned": banned,
    }


def topic_detail(request, pk):
    topic = selectors.topic_for_page(pk=pk, user=request.user)
    if topic is None:
        raise Http404("No such topic.")
    return render(request, "forums/topic.html", _topic_context(request, topic))


@login_required
@require_POST
def topic_read(request, pk):
    """The shopper has seen the topic up to post ``number`` (sent by the topic page once shown;
    without JavaScript the "Mark as read" button sends it). 204 for htmx, else back to the
    topic."""
    topic = selectors.topic_for_page(pk=pk, user=request.user)
    if topic is None:
        raise Http404("No such topic.")
    number = request.POST.get("number", "")
    if not number.isdigit():
        raise ForumError("Say up to which post you have read (number).")
    services.topic_mark_read_upto(user=request.user, topic=topic, number=int(number))
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(topic)


@login_required
@require_POST
def topic_reply(request, pk):
    topic = selectors.topic_for_page(pk=pk, user=request.user)
    if topic is None:
        raise Http404("No such topic.")
    form = PostForm(request.POST)
    post, status = submit_form(
        form,
        lambda data: services.post_create(user=request.user, topic_id=topic.pk, body=data["body"]),
        error=ForumError,
    )
    if post is not None:
        messages.success(request, "Your reply is posted.")
        return redirect(post.get_absolute_url())
    request.GET = request.GET.copy()
    request.GET["page"] = "last"
    return render(
        request, "forums/topic.html", _topic_context(request, topic, form=form), status=status
    )


@login_required
def post_edit(request, pk):
    post = get_object_or_404(Post.objects.select_related("topic__category"), pk=pk)
    # The edit form itself follows the rule the edit obeys (403 / 404 with the reason).
    services.post_write_check(
        user=request.user, action=services.PostAction.EDIT, topic=post.topic, post=post
    )
    form = PostForm(request.POST or None, initial={"body": post.body})
    status = 200
    if request.method == "POST":
        edited, status = submit_form(
            form,
            lambda data: services.post_edit(user=request.user, post_id=post.pk, body=data["body"]),
            error=ForumError,
        )
        if edited is not None:
            messages.success(request, "Your post is updated.")
            return redirect(edited.get_absolute_url())
    return render(request, "forums/post_edit.html", {"post": post, "form": form}, status=status)


@login_required
@require_POST
def post_delete(request, pk):
    post = services.post_delete(user=request.user, post_id=pk)
    messages.success(request, "Your post is deleted.")
    return redirect(post.get_absolute_url())


@login_required
def post_report(request, pk):
    post = get_object_or_404(Post.objects.select_related("topic", "author"), pk=pk)
    services.post_write_check(
        user=request.user, action=services.PostAction.REPORT, topic=post.topic, post=post
    )
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        report, status = submit_form(
            form,
            lambda data: services.post_report(user=request.user, post_id=pk, reason=data["reason"]),
            error=ForumError,
        )
        if report is not None:
            messages.success(request, "Thank you: a moderator will look at this post.")
            return redirect(post.get_absolute_url())
    return render(request, "forums/post_report.html", {"post": post, "form": form}, status=status)


def _follow_choice(request) -> tuple[bool, bool | None]:
    """``on`` = 1 follows, anything else unfollows; ``email`` = 1 / 0 turns emails on / off."""
    email = request.POST.get("email")
    return request.POST.get("on") == "1", {"1": True, "0": False}.get(email)


def _follow_message(on: bool, email: bool | None, what: str) -> str:
    if not on:
        return f"You no longer follow this {what}."
    if email is False:
        return f"You follow this {what}: notifications in the site only, no emails."
    if email:
        return f"You follow this {what}: notifications in the site and by email."
    return f"You follow this {what}."


@login_required
@require_POST
def topic_follow(request, pk):
    topic = selectors.topic_for_page(pk=pk, user=request.user)
    if topic is None:
        raise Http404("No such topic.")
    on, email = _follow_choice(request)
    services.subscription_set(user=request.user, topic=topic, on=on, email=email)
    messages.success(request, _follow_message(on, email, "topic"))
    return redirect(topic)


@login_required
@require_POST
def category_follow(request, slug):
    category = get_object_or_404(ForumCategory, slug=slug)
    on, email = _follow_choice(request)
    services.subscription_set(user=request.user, category=category, on=on, email=email)
    messages.success(request, _follow_message(on, email, "category"))
    return redirect(category)


@login_required
def notifications(request):
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        messages.success(request, "All notifications are marked as read.")
        return redirect("forums:notifications")
    paginator = Paginator(selectors.notifications_for(request.user), 30)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "forums/notifications.html", {"page": page, "notes": page.object_list})


@login_required
@require_POST
def notification_open(request, pk):
    """Opening a notification (a POST from its button) marks it read and goes to the post."""
    note = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    services.notifications_mark_read(user=request.user, ids=[note.pk])
    return redirect(note.post.get_absolute_url())


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    page = None
    if query:
        paginator = Paginator(selectors.search_posts(query, user=request.user), 20)
        page = paginator.get_page(request.GET.get("page"))
    return render(request, "forums/search.html", {"query": query, "page": page})


def product_picker(request):
    """Products matching ``q``, for the product picker under the post editor (htmx)."""
    from shop.selectors import search_products

    query = request.GET.get("pq", "").strip()[:100]
    products = []
    if query:
        products = list(search_products(Product.objects.visible(), query).only("name", "slug")[:8])
    return render(request, "forums/_product_picker.html", {"products": products, "pq": query})


# --- moderation -------------------------------------------------------------------------------


@login_required
@require_POST
def topic_moderate(request, pk):
    action = request.POST.get("action", "")
    if action == "move":
        form = MoveForm(request.POST)
        if not form.is_valid():
            raise ForumError("Choose a category to move the topic to.")
        topic = services.topic_move(
            actor=request.user, topic_id=pk, category=form.cleaned_data["category"]
        )
    else:
        topic = services.topic_moderate(actor=request.user, topic_id=pk, action=action)
    messages.success(request, f"Topic: {action} done.")
    return redirect(topic)


@login_required
@require_POST
def post_hide(request, pk):
    hidden = request.POST.get("hidden", "1") == "1"
    post = services.post_hide(actor=request.user, post_id=pk, hidden=hidden)
    messages.success(request, "The post is hidden." if hidden else "The post is visible again.")
    return redirect_next(request, fallback=post.get_absolute_url())


@login_required
@require_POST
def user_ban(request, user_id):
    target = get_object_or_404(get_user_model(), pk=user_id)
    if request.POST.get("unban"):
        services.user_unban(actor=request.user, user=target)
        messages.success(request, f"{target.username} may post again.")
        return redirect("forums:moderation")
    form = BanForm(request.POST)
    if not form.is_valid():
        raise ForumError("Give a reason for the ban (and, optionally, a number of days).")
    services.user_ban(
        actor=request.user,
        user=target,
        reason=form.cleaned_data["reason"],
        days=form.cleaned_data["days"],
    )
    messages.success(request, f"{target.username} is banned from the forums.")
    return redirect_next(request, fallback="forums:moderation")


@login_required
def moderation(request):
    if not services.is_moderator(request.user):
        raise Http404
    if request.method == "POST":
        services.report_resolve(actor=request.user, report_id=request.POST.get("report"))
        messages.success(request, "Report dismissed.")
        return redirect("forums:moderation")
    from .models import ForumBan

    context = {
        "reports": list(selectors.open_reports()[:100]),
        "bans": list(ForumBan.objects.select_related("user", "banned_by")[:100]),
    }
    return render(request, "forums/moderation.html", context)
