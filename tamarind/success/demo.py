"""Demo success plans: templates, plans in every color, objectives in every state, manager and peer reviews, and
EBRs (some completed, some scheduled, some due), so that the coverage figures and the tasks tell a story.

Each plan is played through the success services as the account's TAM (policy-checked and audited as in
production); then the demo moves a few clocks back (a plan's last activity, a review's date) to when its story
says it happened — a demo-only adjustment of timestamps, not audited — and runs the daily recompute once.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.people.models import Role, User
from tamarind.success import services
from tamarind.success.models import PlanReview, PlanTemplate, PlanTemplateObjective, SuccessPlan

SOURCE = "demo"
STORIES = ("green", "draft", "no_highlights", "idle", "no_objectives", "none", "green_peer", "short", "green_archived")
OBJECTIVES = (
    ("Roll out CI to every product team", "adoption", "12 teams building in the pipeline"),
    ("Cut release lead time by half", "roi", "Lead time under 2 days, measured monthly"),
    ("Expand to the EMEA business unit", "expansion", "300 more seats signed"),
    ("Retire the legacy build servers", "roi", "Servers switched off; licence savings booked"),
)
TASKS = ("Kickoff workshop", "Pilot with one team", "Executive readout")
ANSWERS = ("yes", "partly", "no")


@dataclass
class SuccessDemo:
    plans: int = 0
    reviews: int = 0
    ebrs: int = 0

    def summary(self) -> str:
        return f"{self.plans} success plans, {self.reviews} reviews, {self.ebrs} EBRs"


def _templates() -> None:
    if PlanTemplate.objects.exists():
        return
    default = PlanTemplate.objects.create(
        name="Standard plan", strategy="What the customer wants to achieve, and by when."
    )
    PlanTemplateObjective.objects.create(
        template=default, name="Adoption across the first teams", category="adoption", tasks="Kickoff\nTraining"
    )
    commercial = PlanTemplate.objects.create(name="Commercial plan", segment="mid_market")
    for i, (name, category, criteria) in enumerate(OBJECTIVES[:3]):
        PlanTemplateObjective.objects.create(
            template=commercial, name=name, category=category, success_criteria=criteria, position=i
        )


def _review(plan: SuccessPlan, reviewer: User, rng: random.Random, *, peer: bool = False) -> dict[str, str]:
    data = {f"q{i}": rng.choice(ANSWERS[:2] if i < 4 else ANSWERS) for i in range(1, 7)}
    data.update(
        verdict=rng.choice(["strong", "needs_work", "weak"]),
        coaching="" if peer else "Tie each objective to a number the sponsor tracks.",
        q4_notes="Two outcomes are still activities, not results.",
    )
    return data


def seed_success_story(*, seed: int = 7, limit: int = 80) -> SuccessDemo:
    """Plans for up to ``limit`` TAM-owned accounts, cycling through ``STORIES``; EBRs for most priority 1 ones."""
    rng = random.Random(seed * 31 + 10)
    _templates()
    out = SuccessDemo()
    today = timezone.localdate()
    accounts = list(
        Account.objects.filter(tam__isnull=False)
        .select_related("region", "region__manager", "tam")
        .order_by("pk")[:limit]
    )
    cast_ids: set[int] = {a.tam_id for a in accounts if a.tam_id} | {
        a.region.manager_id for a in accounts if a.region.manager_id
    }
    people = {u.pk: u for u in User.objects.with_region().filter(pk__in=cast_ids)}
    peers: dict[int, list[User]] = {}
    for user in User.objects.with_region().filter(role=Role.TAM, is_active=True).order_by("pk"):
        if user.region_id:
            peers.setdefault(user.region_id, []).append(user)
    for index, account in enumerate(accounts):
        story = STORIES[index % len(STORIES)]
        tam = people[account.tam_id]  # type: ignore[index]
        manager = people.get(account.region.manager_id or 0)
        if story == "none":
            continue
        if story == "green_archived":
            old = services.success_plan_create(
                actor=tam,
                account=account,
                data={"status": "active", "strategy": "Last year's plan.", "start_on": today - dt.timedelta(days=400)},
            )
            services.success_plan_archive(actor=tam, plan=old, source=SOURCE)
            out.plans += 1
        status = "draft" if story == "draft" else "active"
        plan = services.success_plan_create(
            actor=tam,
            account=account,
            data={
                "status": status,
                "why_bought": "Consolidate five build tools into one platform before the audit.",
                "strategy": "**Standardize** delivery on one platform, team by team:\n\n1. pilot\n2. roll out\n3. retire legacy",
                "highlights": "" if story == "no_highlights" else "Pilot team ships twice a week (was monthly).",
                "start_on": today - dt.timedelta(days=rng.randint(20, 200)),
            },
            source=SOURCE,
            use_template=story != "no_objectives",
        )
        out.plans += 1
        existing = plan.objectives.count()
        if story != "no_objectives":
            wanted = 1 if story == "short" else (3 if account.segment != "enterprise" else 2)
            for name, category, criteria in OBJECTIVES[existing : max(existing, wanted)]:
                services.objective_create(
                    actor=tam,
                    plan=plan,
                    data={"name": name, "category": category, "success_criteria": criteria, "status": "in_progress"},
                    source=SOURCE,
                )
            objectives = list(plan.objectives.all())
            for o_index, objective in enumerate(objectives):
                for t_index, task in enumerate(TASKS[: 1 + (o_index + index) % 3]):
                    services.plan_task_create(
                        actor=tam,
                        objective=objective,
                        data={
                            "name": task,
                            "progress": min(100, 30 * (t_index + 1) + 10 * o_index),
                            "customer_owner": "Dana (VP Eng)",
                        },
                        source=SOURCE,
                    )
            if story in ("green", "green_peer", "green_archived") and len(objectives) > 1:
                # One more objective, closed with its outcome, so every state shows.
                services.objective_create(
                    actor=tam,
                    plan=plan,
                    data={
                        "name": OBJECTIVES[3][0],
                        "category": OBJECTIVES[3][1],
                        "status": "closed",
                        "outcome": "Legacy servers switched off in March; $40k a year saved.",
                    },
                    source=SOURCE,
                )
        if manager is not None and story in ("green", "idle", "short"):
            services.plan_review_record(actor=manager, plan=plan, data=_review(plan, manager, rng), source=SOURCE)
            PlanReview.objects.filter(plan=plan).update(
                completed_at=timezone.now() - dt.timedelta(days=rng.randint(5, 150))
            )
            out.reviews += 1
        candidates = [p for p in peers.get(account.region_id, []) if policy.can_be_peer_reviewer(p, plan)]
        if story in ("green_peer", "draft") and candidates:
            reviewer = candidates[index % len(candidates)]
            review = services.peer_review_request(actor=tam, plan=plan, reviewer=reviewer, source=SOURCE)
            out.reviews += 1
            if story == "green_peer":
                services.peer_review_answer(
                    actor=reviewer, review=review, data=_review(plan, reviewer, rng, peer=True), source=SOURCE
                )
        if story == "idle":
            SuccessPlan.objects.filter(pk=plan.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=74))
        if account.priority == 1 and index % 5 != 4:
            done = index % 5 in (0, 1, 2)
            services.ebr_create(
                actor=tam,
                account=account,
                data={
                    "status": "completed" if done else "scheduled",
                    "held_on": today - dt.timedelta(days=rng.randint(10, 300))
                    if done
                    else today + dt.timedelta(days=rng.randint(5, 40)),
                    "attendees": "CTO, VP Engineering",
                    "outcome": "Agreed the expansion roadmap." if done else "",
                },
                source=SOURCE,
            )
            out.ebrs += 1
    services.success_recompute_all(source=SOURCE)
    return out
