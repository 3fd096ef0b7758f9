"""The demo book: a deterministic, realistic customer base for trying Tamarind and for benchmarks.

``build_demo(accounts=N, seed=S)`` creates six regions with their TAM Managers, a director and an admin,
SALs and SAs, TAMs sized by the capacity rule (qualifying ARR per region / capacity per TAM), then writes
N accounts as a CRM export (CSV, the importer's default headers) and imports it through the same import
service that real CRM files use. The same seed gives the same book (renewal dates are relative to today).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.core.csv_safe import SafeWriter
from tamarind.imports.selectors import export_headers
from tamarind.people.models import Region, Role, User
from tamarind.people.services import region_create, user_create

if TYPE_CHECKING:
    from tamarind.health.demo import HealthStoryResult
    from tamarind.imports.models import ImportJob

DEMO_PASSWORD = "tamarind-demo"
DEMO_DOMAIN = "demo.tamarind.test"

REGIONS: list[tuple[str, float]] = [
    ("AMER East", 0.24),
    ("AMER West", 0.21),
    ("EMEA", 0.24),
    ("APAC", 0.12),
    ("LATAM", 0.07),
    ("Public Sector", 0.12),
]
# (segment label as a CRM writes it, share, median ARR, log-normal sigma)
SEGMENTS: list[tuple[str, float, float, float]] = [
    ("SMB", 0.52, 14_000, 0.85),
    ("Mid-Market", 0.31, 62_000, 0.75),
    ("Enterprise", 0.17, 240_000, 0.9),
]
# tier names as CRMs spell them (two names on a rung), list price per license per year
TIERS: list[tuple[tuple[str, str], float, int]] = [
    (("Starter", "Bronze"), 0.22, 228),
    (("Premium", "Silver"), 0.50, 348),
    (("Ultimate", "Gold"), 0.28, 1188),
]
FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isabel",
    "Jonas",
    "Kavya",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomas",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esther",
    "Felix",
    "Greta",
    "Hamid",
    "Ines",
    "Jakob",
    "Keiko",
    "Lucas",
    "Mira",
    "Nils",
    "Oscar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tariq",
    "Ulla",
    "Vera",
    "Wojtek",
    "Yara",
    "Zain",
]
LAST = [
    "Abbott",
    "Becker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Almeida",
    "Brennan",
    "Costa",
    "Dalton",
    "Engel",
    "Ferreira",
    "Gupta",
    "Hoffmann",
    "Ivanova",
    "Juarez",
    "Klein",
    "Lindqvist",
    "Mendes",
    "Novak",
    "Olsen",
    "Park",
    "Reyes",
    "Silva",
    "Torres",
    "Urban",
    "Vogel",
    "Walsh",
    "Young",
]
NAME_A = [
    "Acme",
    "Apex",
    "Blue",
    "Bright",
    "Cedar",
    "Cobalt",
    "Crest",
    "Delta",
    "Echo",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Helix",
    "Indigo",
    "Iron",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Meridian",
    "Nimbus",
    "North",
    "Nova",
    "Oak",
    "Orbit",
    "Pine",
    "Pioneer",
    "Quantum",
    "Quartz",
    "Red",
    "River",
    "Sable",
    "Silver",
    "Solar",
    "Summit",
    "Tidal",
    "Titan",
    "Union",
    "Vector",
    "Vertex",
    "Willow",
    "Zenith",
]
NAME_B = [
    "Analytics",
    "Bank",
    "Biotech",
    "Capital",
    "Cloud",
    "Commerce",
    "Dynamics",
    "Energy",
    "Foods",
    "Freight",
    "Games",
    "Health",
    "Holdings",
    "Insurance",
    "Labs",
    "Logistics",
    "Media",
    "Motors",
    "Networks",
    "Payments",
    "Pharma",
    "Retail",
    "Robotics",
    "Security",
    "Software",
    "Systems",
    "Telecom",
    "Travel",
    "Ventures",
    "Works",
]
NAME_C = ["", "", "", " Inc.", " GmbH", " Ltd", " SA", " AG", " Group", " Co.", " BV", " KK", " Pty"]


@dataclass
class DemoCast:
    """The people of the demo book, by region."""

    admin: User
    director: User
    managers: dict[str, User] = field(default_factory=dict)
    tams: dict[str, list[User]] = field(default_factory=dict)
    sals: dict[str, list[User]] = field(default_factory=dict)
    sas: dict[str, list[User]] = field(default_factory=dict)


T = TypeVar("T")


def _weighted(rng: random.Random, items: list[tuple[T, float]]) -> T:
    roll = rng.random()
    acc = 0.0
    for item, weight in items:
        acc += weight
        if roll < acc:
            return item
    return items[-1][0]


def _person_name(rng: random.Random, used: set[str]) -> str:
    """A fresh full name; a large cast (100,000 accounts need thousands of people) gets middle initials."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    candidates = [f"{first} {last}"] + [f"{first} {chr(65 + i)}. {last}" for i in range(26)]
    for name in candidates:
        if name not in used:
            used.add(name)
            return name
    n = 2
    while f"{first} {last} {n}" in used:
        n += 1
    used.add(f"{first} {last} {n}")
    return f"{first} {last} {n}"


def _email(name: str) -> str:
    return name.lower().replace(".", "").replace(" ", ".") + "@" + DEMO_DOMAIN


@dataclass
class PlannedAccount:
    crm_id: str
    name: str
    region: str
    segment: str
    arr: int
    tier: str
    tier_rung: int
    licenses: int
    customer_since: dt.date
    renewal: dt.date
    parent: str = ""
    priority: int = 4
    engagement: str = ""
    lifecycle: str = "Adoption"
    tam: str = ""
    sal: str = ""
    sa: str = ""
    collab: str = ""

    @property
    def qualifies(self) -> bool:
        # Domain section 3 defaults; used here only to shape a believable book, the rules engine decides.
        return self.arr > 50_000 and self.segment in ("Mid-Market", "Enterprise") and self.tier_rung >= 2


def plan_accounts(n: int, seed: int, today: dt.date) -> list[PlannedAccount]:
    """N accounts with log-normal ARR, realistic segment/tier mixes, parents with children, renewals ahead."""
    rng = random.Random(seed)
    names: set[str] = set()
    plans: list[PlannedAccount] = []
    i = 0
    while len(plans) < n:
        i += 1
        region = _weighted(rng, [(r, w) for r, w in REGIONS])
        seg_label, _, median, sigma = _weighted(rng, [(s, s[1]) for s in SEGMENTS])
        if region == "Public Sector" and rng.random() < 0.5:
            seg_label, _, median, sigma = SEGMENTS[2]
        arr = max(1_200, round(rng.lognormvariate(math.log(median), sigma), -2))
        rung_offset = 1 if seg_label == "SMB" else 0
        tier_names, _, price = _weighted(
            rng, [(t, t[1] + (0.2 if k == 0 else 0) * rung_offset) for k, t in enumerate(TIERS)]
        )
        rung = [t[0] for t in TIERS].index(tier_names) + 1
        tier = tier_names[0] if rng.random() < 0.7 else tier_names[1]
        while True:
            name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)}{rng.choice(NAME_C)}"
            if name not in names:
                break
            name = f"{name} {rng.randint(2, 99)}"
            if name not in names:
                break
        names.add(name)
        since = today - dt.timedelta(days=rng.randint(20, 4 * 365))
        renewal = today + dt.timedelta(days=rng.randint(1, 6 * 91))
        plan = PlannedAccount(
            crm_id=f"0015g{seed % 1000:03d}{i:09d}",
            name=name,
            region=region,
            segment=seg_label,
            arr=int(arr),
            tier=tier,
            tier_rung=rung,
            licenses=max(5, int(arr / price)),
            customer_since=since,
            renewal=renewal,
        )
        plans.append(plan)
        # About one enterprise customer in twelve buys per business unit: children are separate accounts.
        if seg_label == "Enterprise" and rng.random() < 0.08:
            for c in range(rng.randint(1, 3)):
                if len(plans) >= n:
                    break
                i += 1
                child_arr = int(max(5_000, round(arr * rng.uniform(0.1, 0.6), -2)))
                plans.append(
                    PlannedAccount(
                        crm_id=f"0015g{seed % 1000:03d}{i:09d}",
                        name=f"{name} — {['Europe', 'Asia', 'Labs', 'Retail', 'Platform'][c % 5]}",
                        region=region,
                        segment="Enterprise" if child_arr > 100_000 else "Mid-Market",
                        arr=child_arr,
                        tier=tier,
                        tier_rung=rung,
                        licenses=max(5, int(child_arr / price)),
                        customer_since=since + dt.timedelta(days=rng.randint(0, 300)),
                        renewal=today + dt.timedelta(days=rng.randint(1, 6 * 91)),
                        parent=plan.crm_id,
                    )
                )
    for p in plans:
        onboarding = (today - p.customer_since).days < 75
        if p.qualifies:
            p.priority = 1 if (p.arr > 250_000 or onboarding or rng.random() < 0.25) else 2
            p.engagement = "Named" if p.arr > 500_000 else ("High touch" if p.priority == 1 else "Low touch")
        elif p.parent:
            p.priority, p.engagement = 3, ""
        else:
            p.priority = 4
            p.engagement = "Pooled" if p.arr > 20_000 else "Digital"
        p.lifecycle = "Onboarding" if onboarding else rng.choice(["Adoption", "Adoption", "Optimize and Grow"])
        if rng.random() < 0.01:
            p.lifecycle = "Will Churn"
    return plans


def cast_people(plans: list[PlannedAccount], seed: int, *, capacity: Decimal) -> DemoCast:
    """Create the people: TAMs per region by the capacity rule, SALs and SAs by book size."""
    rng = random.Random(seed + 1)
    used: set[str] = set()
    shared_hash = make_password(DEMO_PASSWORD)

    def person(role: str, region: Region | None, name: str | None = None, email: str | None = None) -> User:
        full = name or _person_name(rng, used)
        return user_create(
            actor=None,
            email=email or _email(full),
            full_name=full,
            role=role,
            password_hash=shared_hash,
            region=region,
            source="demo",
        )

    admin = person(Role.ADMIN, None, "Casey Ops", f"admin@{DEMO_DOMAIN}")
    director = person(Role.DIRECTOR, None, "Dana Director", f"director@{DEMO_DOMAIN}")
    cast = DemoCast(admin=admin, director=director)
    for region_name, _ in REGIONS:
        region = Region.objects.filter(name=region_name).first() or region_create(
            actor=None, name=region_name, source="demo"
        )
        slug = region_name.lower().replace(" ", "-")
        manager = person(Role.MANAGER, None, None, f"manager.{slug}@{DEMO_DOMAIN}")
        from tamarind.people.services import region_set_manager

        region_set_manager(actor=None, region=region, manager=manager, source="demo")
        cast.managers[region_name] = manager
        book = [p for p in plans if p.region == region_name]
        managed_arr = sum(p.arr for p in book if p.qualifies)
        n_tams = max(1, math.ceil(Decimal(managed_arr) / capacity)) if book else 1
        cast.tams[region_name] = [person(Role.TAM, region) for _ in range(n_tams)]
        cast.sals[region_name] = [person(Role.SAL, region) for _ in range(max(1, len(book) // 120))]
        cast.sas[region_name] = [person(Role.SA, region) for _ in range(max(1, len(book) // 300))]
    return cast


def assign_owners(plans: list[PlannedAccount], cast: DemoCast, seed: int) -> None:
    """Qualifying accounts go to the least-loaded TAM of their region (a few are left to staff)."""
    rng = random.Random(seed + 2)
    load: dict[int, int] = {}
    for p in sorted(plans, key=lambda x: -x.arr):
        p.sal = rng.choice(cast.sals[p.region]).email
        if p.segment != "SMB":
            p.sa = rng.choice(cast.sas[p.region]).email
        if p.qualifies and rng.random() > 0.06:
            tam = min(cast.tams[p.region], key=lambda t: load.get(t.pk, 0))
            load[tam.pk] = load.get(tam.pk, 0) + p.arr
            p.tam = tam.email
            if rng.random() < 0.6:
                p.collab = f"https://collab.example.com/customers/{p.crm_id}"


def rows(plans: list[PlannedAccount]) -> Iterator[list[str]]:
    """CSV rows in the column order of ``export_headers()`` (the importer's built-in headers)."""
    for p in plans:
        yield [
            p.crm_id,
            p.name,
            p.parent,
            p.region,
            p.segment,
            f"{p.arr:.2f}",
            "USD",
            p.tier,
            str(p.licenses),
            str(p.priority),
            p.engagement,
            p.tam,
            p.sal,
            p.sa,
            p.customer_since.isoformat(),
            p.renewal.isoformat(),
            p.lifecycle,
            p.collab,
        ]


def write_csv(plans: list[PlannedAccount], path: Path) -> Path:
    """Write the CSV to ``path`` whole: through a private file renamed into place, so a reader never sees it half
    written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".accounts-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = SafeWriter(fh)  # the escape every export writes, so the importer reads it back exactly
            writer.writerow(export_headers())
            writer.writerows(rows(plans))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def demo_csv_path(plans: list[PlannedAccount] | None = None) -> Path:
    """Where the demo's CRM export goes: named after its content, so two demo loads running at once (test runs on
    SQLite and PostgreSQL side by side) never read each other's file, and loading the same book again rewrites
    the same file."""
    if plans is None:
        return Path(settings.VAR_DIR) / "demo" / "accounts.csv"
    digest = hashlib.sha256("\n".join(",".join(r) for r in rows(plans)).encode()).hexdigest()[:12]
    return Path(settings.VAR_DIR) / "demo" / f"accounts-{len(plans)}-{digest}.csv"


ProgressFn = Callable[[int, int], None]


@dataclass
class DemoResult:
    cast: DemoCast
    csv: Path
    job: ImportJob
    onboardings: int = 0
    health: HealthStoryResult | None = None


def build_demo(
    *,
    accounts: int,
    seed: int,
    progress: ProgressFn | None = None,
    onboarding_progress: ProgressFn | None = None,
    health: bool = True,
    health_progress: ProgressFn | None = None,
) -> DemoResult:
    """Create the demo cast and book; returns the cast, the CSV path and the finished import job.

    With ``health`` (the default) the TAM-managed accounts then get their health story: usage, support tickets,
    reviews, calls, scores and a triage board (``tamarind.health.demo``)."""
    from tamarind.imports.models import ImportSource, ImportStatus
    from tamarind.imports.services import import_job_create_from_path, import_job_run

    today = timezone.localdate()
    plans = plan_accounts(accounts, seed, today)
    cast = cast_people(plans, seed, capacity=Decimal(settings.TAMARIND_TAM_CAPACITY_ARR))
    assign_owners(plans, cast, seed)
    path = write_csv(plans, demo_csv_path(plans))
    job = import_job_create_from_path(actor=cast.admin, path=path, source=ImportSource.DEMO)
    job = import_job_run(
        job_id=job.pk, progress=(lambda p: progress(p.rows, len(plans))) if progress is not None else None
    )
    if job.status != ImportStatus.SUCCEEDED:
        problems = "; ".join(e["message"] for e in (job.errors or [])[:5])
        raise RuntimeError(f"The demo book did not import: {job.message} {problems}")
    onboardings = seed_onboarding_history(plans, cast, seed, today, progress=onboarding_progress)
    story = None
    if health:
        from tamarind.health.demo import seed_health_story

        story = seed_health_story(seed=seed, actor=cast.admin, progress=health_progress)
        from tamarind.success.demo import seed_success_story

        seed_success_story(seed=seed)
    from tamarind.engagement.demo import seed_engagement_demo
    from tamarind.servicedesk.demo import seed_servicedesk_demo

    seed_engagement_demo(actor=cast.admin, seed=seed, today=today)
    from tamarind.contacts.demo import seed_contacts_demo

    seed_contacts_demo(seed=seed, actor=cast.admin)
    from tamarind.surveys.demo import seed_surveys_demo

    # After the contacts it asks; before the stuck sweep, where a poor answer makes a pooled customer stuck.
    seed_surveys_demo(seed=seed)
    region = sorted(cast.managers)[0] if cast.managers else ""
    if region:
        pool = seed_servicedesk_demo(manager=cast.managers[region], tams=cast.tams.get(region, []))
        from tamarind.stuck.demo import seed_stuck_demo

        seed_stuck_demo(pool=pool)
    from tamarind.reviews.demo import seed_reviews_story

    seed_reviews_story(seed=seed, today=today)
    from tamarind.journeys.demo import seed_journeys_demo

    seed_journeys_demo(seed=seed, today=today)
    from tamarind.cohorts.demo import seed_cohorts_demo

    seed_cohorts_demo(actor=cast.admin, seed=seed, today=today)
    from tamarind.webinars.demo import seed_webinars_demo

    seed_webinars_demo(actor=cast.admin, seed=seed, today=today)
    return DemoResult(cast=cast, csv=path, job=job, onboardings=onboardings, health=story)


def _lag(rng: random.Random, median: float, spread: float = 0.5) -> int:
    """Days to a milestone: log-normal around ``median``, so most land near it and some run long."""
    return max(0, round(rng.lognormvariate(math.log(median), spread)))


def seed_onboarding_history(
    plans: list[PlannedAccount],
    cast: DemoCast,
    seed: int,
    today: dt.date,
    *,
    progress: ProgressFn | None = None,
) -> int:
    """Give the staffed customers of the last year an onboarding story, through the onboarding services.

    The import already started onboarding for new customers still in their first weeks (the rules' consequence);
    here those records get the milestones reached so far, and customers of the last year that are past onboarding
    get a completed record, so the onboarding dashboard has a year of time-to-value to show. A few run late, a
    few are on hold, as in life. Returns how many records were written.
    """
    from tamarind.onboarding.models import Onboarding, OnboardingStatus
    from tamarind.onboarding.services import onboarding_start_many, onboarding_update

    rng = random.Random(seed + 3)
    recent = {p.crm_id: p for p in plans if p.tam and p.qualifies and (today - p.customer_since).days <= 365}
    accounts = list(Account.objects.filter(crm_id__in=list(recent)).select_related("region", "tam").order_by("crm_id"))
    started = set(Onboarding.objects.filter(account__crm_id__in=list(recent)).values_list("account_id", flat=True))
    # Each region's manager starts the onboardings the import did not (customers past their first weeks), in bulk.
    by_manager: dict[str, list[tuple[int, int]]] = {}
    for account in accounts:
        if account.pk not in started and account.tam_id is not None:
            by_manager.setdefault(recent[account.crm_id].region, []).append((account.pk, account.tam_id))
    for region, pairs in sorted(by_manager.items()):
        onboarding_start_many(actor=cast.managers[region], pairs=pairs, source="demo")
    open_records = {o.account_id: o for o in Onboarding.objects.filter(account__crm_id__in=list(recent)).open()}
    done = 0
    for account in accounts:
        plan, tam = recent[account.crm_id], account.tam
        assert tam is not None
        record = open_records.get(account.pk)
        if record is None:
            continue
        start = plan.customer_since + dt.timedelta(days=rng.randint(1, 6))
        milestones = {
            "handoff_done_on": start,
            "welcome_email_done_on": start + dt.timedelta(days=rng.randint(0, 3)),
            "kickoff_call_done_on": start + dt.timedelta(days=_lag(rng, 9)),
            "infrastructure_ready": start + dt.timedelta(days=_lag(rng, 12)),
            "first_value": plan.customer_since + dt.timedelta(days=_lag(rng, 24, 0.45)),
            "success_plan_done_on": start + dt.timedelta(days=_lag(rng, 25)),
            "cadence_call_done_on": start + dt.timedelta(days=_lag(rng, 36, 0.4)),
        }
        changes: dict[str, Any] = {"contract_start": plan.customer_since, "onboarding_start": start}
        changes.update({k: v for k, v in milestones.items() if v <= today})
        if "cadence_call_done_on" in changes and changes["cadence_call_done_on"] < changes.get("first_value", today):
            changes.pop("cadence_call_done_on")  # nobody finishes onboarding before first value
        finished = "cadence_call_done_on" in changes and "first_value" in changes and "kickoff_call_done_on" in changes
        if finished:
            changes.update(
                status=OnboardingStatus.COMPLETED,
                experience_score=_weighted(rng, [(5, 0.35), (4, 0.4), (3, 0.17), (2, 0.06), (1, 0.02)]),
                notes="Kickoff, handoff and first cadence call done; success plan drafted with the customer.",
                highlights=rng.choice(["Fast rollout to the first team.", "Champion on the customer side.", ""]),
            )
        elif rng.random() < 0.08:
            changes.update(
                status=OnboardingStatus.ON_HOLD, delay_reason="Customer reorganisation; waiting on a new owner."
            )
        else:
            changes["status"] = OnboardingStatus.IN_PROGRESS if len(changes) > 3 else OnboardingStatus.SCHEDULED
        if "kickoff_call_done_on" in changes:
            changes["first_engagement"] = changes["kickoff_call_done_on"]
        if finished:
            changes["onboarding_finish"] = changes["cadence_call_done_on"]
        onboarding_update(actor=tam, onboarding=record, changes=changes, source="demo")
        done += 1
        if progress is not None:
            progress(done, len(recent))
    return done
