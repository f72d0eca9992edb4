"""The dashboard: panels with server-drawn SVG charts over a selectable date range."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import charts, dashboard
from tests.crm.helpers import buy, staff
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_dashboard_shows_every_panel_with_svg_charts(client, rich):
    helper = staff("Marketing")
    rich(helper=staff())
    client.force_login(helper)
    response = client.get(reverse("admin:crm_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for title in [
        "Sales",
        "New and returning customers",
        "Sentiment over time",
        "Most liked and shared products",
        "Top intents",
        "Open tasks",
    ]:
        assert f">{title}</h2>" in html, title
    assert html.count('<svg class="crm-chart"') >= 4
    assert "Harbour Jacket" in html  # most liked and shared
    assert "cdn" not in html.lower()


def test_sales_and_new_versus_returning_count_the_range_only():
    product = ProductFactory(price=10, stock=50)
    old, new = UserFactory(), UserFactory()
    first = buy(old, product)
    first.created_at = timezone.now() - timedelta(days=40)
    first.save()
    buy(old, product)
    buy(new, product)
    today = timezone.now().date()
    sales = dashboard.sales(start=today - timedelta(days=6), end=today)
    assert sales["orders"] == 2
    assert sales["unit"] == "day" and len(sales["rows"]) == 7
    people = dashboard.new_and_returning(start=today - timedelta(days=6), end=today)
    assert (people["new"], people["returning"]) == (1, 1)
    year = dashboard.sales(start=today - timedelta(days=364), end=today)
    assert year["unit"] == "week" and year["orders"] == 3


def test_a_bad_range_is_a_400_with_a_message(client):
    client.force_login(staff("Support"))
    url = reverse("admin:crm_dashboard")
    response = client.get(url, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.status_code == 400
    assert b"The start date must be on or before the end date." in response.content
    assert client.get(url, {"start": "nonsense", "end": "x"}).status_code == 400
    ok = client.get(url, {"start": "2026-01-01", "end": "2026-03-31"})
    assert ok.status_code == 200 and b"1 Jan 2026" in ok.content


def test_charts_escape_labels_and_draw_every_point():
    svg = charts.line_chart(title="<b>t</b>", labels=["a", "b", "c"], series={"s": [1, 2, 3]})
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert svg.count(",") >= 3
    bars = charts.bar_chart(title="x", items=[("<script>", 3), ("ok", 1)])
    assert "<script>" not in bars and bars.count("<rect") == 2


def axis_labels(svg: str) -> list[str]:
    import re

    return re.findall(r'text-anchor="end" font-size="11" fill="#444">([^<]*)<', svg)


@pytest.mark.parametrize(
    "values,expected",
    [
        ([0, 2, 1], ["0", "1", "2"]),  # counts: whole ticks, never 0.50 or 1.50
        ([0, 662.5, 2600], ["0", "1k", "2k", "3k"]),  # money: one style, never 662.00 beside 1.3k
        ([-0.2, 0.9], ["-0.5", "0", "0.5", "1"]),  # sentiment, from -1 to 1
        ([0, 51], ["0", "20", "40", "60"]),
    ],
)
def test_line_chart_axes_step_on_round_numbers_and_cover_the_data(values, expected):
    svg = charts.line_chart(title="t", labels=[str(i) for i in values], series={"s": values})
    assert axis_labels(svg) == expected


def test_bar_labels_are_shortened_to_fit_left_of_the_bars():
    svg = charts.bar_chart(title="x", items=[("Atlas Works Harbour Wooden puzzle", 3)])
    assert ">Atlas Works Harbour Woo…<" in svg


def test_the_sales_total_reads_as_money(client):
    product = ProductFactory(price=1234.5, stock=5)
    buy(UserFactory(), product)
    client.force_login(staff("Marketing"))
    html = client.get(reverse("admin:crm_dashboard")).content.decode()
    assert "<strong>€1,234.50</strong> from 1 orders" in html
