"""The TAM Regional Dashboard: per-TAM figures against the capacity targets, and every figure's link lists exactly
the accounts behind it (the account list's own filters)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

from django.http import QueryDict
from django.utils import timezone

from tamarind.accounts.selectors import AccountFilters, account_list
from tamarind.health.models import HealthScore
from tamarind.reviews import cockpit
from tamarind.reviews.models import ReviewSettings
from tamarind.testing.factories import AccountFactory


def _book(book):
    today = timezone.localdate()
    for i in range(9):
        a = AccountFactory(
            name=f"East {i}",
            region=book.east,
            tam=[book.tam, book.tam2, None][i % 3],
            arr=Decimal(100000 * (i + 1)),
            priority=1 if i % 3 == 0 else 2,
            next_renewal_date=today + dt.timedelta(days=[10, 80, 200][i % 3]),
        )
        if i % 4:
            HealthScore.objects.create(
                account=a, score=50, color=["red", "yellow", "green"][i % 3], stale=i % 2 == 0, model_version=1
            )


def _listed(user, link: str) -> int:
    path = urlsplit(link)
    if path.path == "/accounts/":
        return account_list(user=user, filters=AccountFilters.from_params(QueryDict(path.query))).count()
    return cockpit.figure_rows(user, QueryDict(path.query), today=timezone.localdate())["count"]


def test_every_tam_figure_links_to_exactly_its_accounts(book):
    _book(book)
    context = cockpit.regional_dashboard(book.manager, {}, today=timezone.localdate())
    tams = {t.tam_id: t for t in context["tams"]}
    assert set(tams) == {book.tam.pk, book.tam2.pk}
    for fig in tams.values():
        for key, link in fig.links.items():
            assert _listed(book.manager, link) == getattr(fig, key), (fig.name, key)
    assert _listed(book.manager, context["unassigned_link"]) == context["unassigned_total"]
    assert _listed(book.manager, context["red_yellow_link"]) == context["red_yellow_total"]
    for quarter in context["quarters"]:
        assert _listed(book.manager, quarter["link"]) == quarter["count"]


def test_capacity_targets_come_from_settings_unless_the_tam_has_their_own(book):
    _book(book)
    ReviewSettings.objects.create(capacity_arr=Decimal("1000000"))
    book.tam2.capacity_arr = Decimal("2000000")
    book.tam2.save(update_fields=["capacity_arr"])
    tams = {t.tam_id: t for t in cockpit.regional_dashboard(book.manager, {}, today=timezone.localdate())["tams"]}
    assert tams[book.tam.pk].capacity == Decimal("1000000")
    assert tams[book.tam2.pk].capacity == Decimal("2000000")
    # book.account (120,000) plus East 0, 3, 6 (100k, 400k, 700k).
    assert tams[book.tam.pk].arr == Decimal("1320000") and tams[book.tam.pk].capacity_pct == 132
    assert tams[book.tam.pk].p1 == 4 and tams[book.tam.pk].p1_share_pct == 100


def test_arr_filter_and_directors_side_by_side(book):
    _book(book)
    director = cockpit.regional_dashboard(book.director, {}, today=timezone.localdate())
    assert director["side_by_side"] and {r["region"].pk for r in director["regions"]} == {book.east.pk, book.west.pk}
    filtered = cockpit.regional_dashboard(
        book.director, {"region": book.east.pk, "arr_min": "500000"}, today=timezone.localdate()
    )
    assert not filtered["side_by_side"]
    assert sum(t.accounts for t in filtered["tams"]) == 3  # East 4, 7 (tam2), East 6 (tam) ... only TAM-owned
    for fig in filtered["tams"]:
        assert _listed(book.director, fig.links["accounts"]) == fig.accounts


def test_a_manager_cannot_pick_another_region(book):
    context = cockpit.regional_dashboard(book.manager, {"region": book.west.pk}, today=timezone.localdate())
    assert "region" in context["scope"].errors and context["scope"].region_ids == [book.east.pk]


def test_success_plan_and_ebr_coverage_per_tam(book):
    """Per TAM, the priority 1 accounts without a green plan and without an EBR in 12 months, their coverage in
    percent, and links listing exactly those accounts (the burn-down's own filters)."""
    from tamarind.success.models import EbrStatus
    from tamarind.success.tests.factories import EbrFactory, SuccessPlanFactory

    today = timezone.localdate()
    planned, with_ebr, neither = (
        AccountFactory(name=f"P1 {n}", region=book.east, tam=book.tam, priority=1) for n in ("plan", "ebr", "none")
    )
    AccountFactory(name="P2", region=book.east, tam=book.tam, priority=2)
    SuccessPlanFactory(account=planned, color="green")
    EbrFactory(account=with_ebr, status=EbrStatus.COMPLETED, held_on=today - dt.timedelta(days=30))
    EbrFactory(account=neither, status=EbrStatus.COMPLETED, held_on=today - dt.timedelta(days=400))

    context = cockpit.regional_dashboard(book.manager, {}, today=today)
    fig = next(t for t in context["tams"] if t.tam_id == book.tam.pk)
    p1 = fig.p1  # the book's own Acme Corp is the TAM's too
    assert (fig.p1_no_green_plan, fig.p1_no_ebr) == (p1 - 1, p1 - 1)
    assert fig.plan_coverage_pct == fig.ebr_coverage_pct == round(100 / p1)
    listed = cockpit.figure_rows(book.manager, QueryDict(urlsplit(fig.links["p1_no_green_plan"]).query), today=today)
    assert planned.pk not in {a.pk for a in listed["rows"]} and neither.pk in {a.pk for a in listed["rows"]}
    listed = cockpit.figure_rows(book.manager, QueryDict(urlsplit(fig.links["p1_no_ebr"]).query), today=today)
    assert with_ebr.pk not in {a.pk for a in listed["rows"]} and neither.pk in {a.pk for a in listed["rows"]}


def test_renewals_by_quarter_follow_the_fiscal_year_and_the_forecasts(book):
    from tamarind.renewals.models import Forecast, Renewal, RenewalSettings
    from tamarind.renewals.selectors import renewal_settings

    _book(book)
    conf = renewal_settings()
    conf.fiscal_start_month = 2
    conf.save(update_fields=["fiscal_start_month"])
    today = dt.date(2027, 1, 20)  # FY27-Q4 with a February start: November 2026 to January 2027
    book.account.next_renewal_date = dt.date(2027, 1, 31)
    book.account.save(update_fields=["next_renewal_date"])
    Renewal.objects.filter(account=book.account).delete()
    Renewal.objects.create(
        account=book.account,
        renewal_date=dt.date(2027, 1, 31),
        arr=book.account.arr,
        tam=book.tam,
        forecast=Forecast.AT_RISK,
    )
    quarters = cockpit.regional_dashboard(book.manager, {}, today=today)["quarters"]
    assert [q["label"] for q in quarters] == ["FY27-Q4", "FY28-Q1", "FY28-Q2", "FY28-Q3"]
    first = quarters[0]
    assert first["count"] >= 1 and first["renewals"] == 1
    assert first["at_risk"] == book.account.arr and first["expected"] == book.account.arr
    assert first["review_link"].endswith("#quarter-2027-4")
    assert _listed(book.manager, first["link"]) == first["count"]
    assert RenewalSettings.objects.count() == 1


# The per-TAM row as the dashboard's template wrote it before the rows were formatted in Python
# (``cockpit.tam_row_html``): the two must agree to the character.
TEMPLATE_ROW = (
    '<tr id="tam-{{ t.tam_id }}">\n<td>{{ t.name }}</td>\n<td><a class="fig-accounts" href="{{ t.links.acco'
    'unts }}">{{ t.accounts }}</a></td>\n<td>{{ t.arr|floatformat:"0g" }} / {{ t.capacity|floatformat:"0g"'
    ' }} <span class="badge {% if t.capacity_pct > 100 %}red{% elif t.capacity_pct >= 80 %}green{% else %'
    '}yellow{% endif %}">{{ t.capacity_pct }}%</span></td>\n<td><a href="{{ t.links.p1 }}">{{ t.p1 }}</a> '
    '({{ t.p1_share_pct }}%)</td>\n<td><a href="{{ t.links.green }}">{{ t.green }}</a> / <a href="{{ t.lin'
    'ks.yellow }}">{{ t.yellow }}</a> / <a href="{{ t.links.red }}">{{ t.red }}</a> / <a href="{{ t.links'
    '.unscored }}">{{ t.unscored }}</a></td>\n<td><a href="{{ t.links.stale }}">{{ t.stale }}</a></td>\n<td'
    '><a href="{{ t.links.onboarding_open }}">{{ t.onboarding_open }}</a></td>\n<td class="coverage">{% if'
    " t.links.p1_no_green_plan %}{% if t.p1 %}green plan {{ t.plan_coverage_pct }}% · EBR {{ t.ebr_covera"
    'ge_pct }}%<br>{% endif %}<span class="muted small">without: <a href="{{ t.links.p1_no_green_plan }}"'
    ' title="Priority 1 accounts without a green success plan">{{ t.p1_no_green_plan }} plan</a> · <a hre'
    'f="{{ t.links.p1_no_ebr }}" title="Priority 1 accounts without an EBR in 12 months">{{ t.p1_no_ebr }'
    '} EBR</a></span>{% elif success_installed %}<span class="muted">—</span>{% else %}<span class="muted'
    '">available once success plans are installed</span>{% endif %}</td>\n<td><a href="{{ t.links.renew90 '
    '}}">{{ t.renew90 }}</a></td>\n</tr>'
)


def test_tam_rows_are_the_templates_markup_to_the_character(book):
    from django.template import Context, Template

    from tamarind.success.tests.factories import SuccessPlanFactory

    _book(book)
    book.tam.full_name = "Tam <O'Brien> & Co"
    book.tam.save(update_fields=["full_name"])
    SuccessPlanFactory(account=book.account, color="green")
    template = Template(TEMPLATE_ROW)
    seen = 0
    for user, params in ((book.manager, {}), (book.director, {"arr_min": "250000"}), (book.tam, {})):
        context = cockpit.regional_dashboard(user, params, today=timezone.localdate())
        for success in (True, False):
            for t in context["tams"]:
                expected = template.render(Context({"t": t, "success_installed": success}))
                assert cockpit.tam_row_html(t, success_installed=success) == expected
                seen += 1
            # A TAM without the coverage figures (success plans not wired): the notice, or a dash.
            t = context["tams"][0]
            t.links = {k: v for k, v in t.links.items() if k not in cockpit.COVERAGE_EXCEPTIONS}
            expected = template.render(Context({"t": t, "success_installed": success}))
            assert cockpit.tam_row_html(t, success_installed=success) == expected
    assert seen >= 6
    mine = next(t for t in context["tams"] if t.tam_id == book.tam.pk)
    assert "<td>Tam &lt;O&#x27;Brien&gt; &amp; Co</td>" in cockpit.tam_row_html(mine, success_installed=True)


def test_grouped_int_is_floatformat_0g():
    from django.template.defaultfilters import floatformat

    for value in (0, 1, 999, 1000, 1234567, Decimal("0.5"), Decimal("1.5"), Decimal("2.5"), Decimal("999.49"),
                  Decimal("999.5"), Decimal("3600000.00"), Decimal("1234567.89"), Decimal("12345678901.5"),
                  Decimal("-1234.5"), Decimal("-0.4")):  # fmt: skip
        assert cockpit.grouped_int(value) == floatformat(value, "0g"), value
