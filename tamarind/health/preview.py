"""Reads for the health model editor: a draft model scored over every account beside the live one (the preview),
and the model's versions with what changed from one to the next.

The preview writes nothing: it gathers each chunk's scorer inputs once (``selectors.gather_inputs``, a fixed number
of queries per chunk) and scores them with both models through the pure scorer, so the two columns of counts differ
only by the model, never by when they were computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.health.models import HealthModelVersion
from tamarind.health.scoring import Scorer
from tamarind.health.selectors import gather_inputs, live_version
from tamarind.health.spec import COLOR_RANK, COLORS, HealthSpec, definition_changes

CHUNK = 1000
SAMPLE = 50
NONE = "none"  # no measure has data: no score, no color


@dataclass(frozen=True)
class PreviewChange:
    """One account whose color the draft would change."""

    account_id: int
    name: str
    live_score: int | None
    live_color: str
    draft_score: int | None
    draft_color: str

    @property
    def worse(self) -> bool:
        return _rank(self.draft_color) < _rank(self.live_color)


@dataclass
class HealthPreview:
    """Counts by color under the live model and the draft, and the accounts that would change color."""

    live_version: int
    evaluated: int = 0
    live_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*COLORS, NONE), 0))
    draft_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*COLORS, NONE), 0))
    changed: int = 0
    worse: int = 0
    better: int = 0
    changes: list[PreviewChange] = field(default_factory=list)  # the first ``SAMPLE``, worst turn first
    score_moved: int = 0  # accounts whose score moves, whatever their color

    def count_rows(self) -> list[tuple[str, int, int, int]]:
        """``(color, live, draft, draft - live)`` per color, and for accounts without a score."""
        return [
            (c, self.live_counts[c], self.draft_counts[c], self.draft_counts[c] - self.live_counts[c])
            for c in (*COLORS, NONE)
        ]


def _rank(color: str) -> int:
    return COLOR_RANK.get(color, -1)


def _account_chunks(chunk: int) -> Iterator[list[int]]:
    """Account ids in primary-key order, ``chunk`` at a time (keyset pages: one query per chunk)."""
    last = 0
    while True:
        ids = list(Account.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            return
        yield ids
        if len(ids) < chunk:
            return
        last = ids[-1]


def health_model_preview(
    draft: HealthSpec, *, today: dt.date | None = None, chunk: int = CHUNK, sample: int = SAMPLE
) -> HealthPreview:
    """Score every account under the live model and under ``draft``; nothing is written.

    Queries: one for the live model, then per chunk one for its ids plus ``gather_inputs``'s fixed few.
    """
    today = today or timezone.localdate()
    live = live_version()
    live_spec = live.spec()
    out = HealthPreview(live_version=live.version)
    # One scorer per model for the whole book: each works out a set of measure scores once (health.scoring).
    live_scorer, draft_scorer = Scorer(live_spec), Scorer(draft)
    # Sorting key: the sharpest turn for the worse first (green -> red before yellow -> red), then by name.
    changes: list[tuple[int, str, int, PreviewChange]] = []
    for ids in _account_chunks(chunk):
        gathered = gather_inputs(ids)
        for account_id in ids:
            data = gathered.get(account_id)
            if data is None:
                continue
            before = live_scorer.score(data.inputs, today=today)
            after = draft_scorer.score(data.inputs, today=today)
            was, will = before.color or NONE, after.color or NONE
            out.evaluated += 1
            out.live_counts[was] += 1
            out.draft_counts[will] += 1
            if before.score != after.score:
                out.score_moved += 1
            if was == will:
                continue
            out.changed += 1
            turn = _rank(will) - _rank(was)
            if turn < 0:
                out.worse += 1
            else:
                out.better += 1
            change = PreviewChange(account_id, data.name, before.score, was, after.score, will)
            changes.append((turn, data.name.lower(), account_id, change))
    changes.sort(key=lambda c: c[:3])
    out.changes = [c[3] for c in changes[:sample]]
    return out


# --- Versions -------------------------------------------------------------------------------------------------


def model_versions(limit: int = 50) -> list[HealthModelVersion]:
    """The newest versions first, with who saved them (one query)."""
    return list(HealthModelVersion.objects.select_related("created_by").order_by("-version")[:limit])


@dataclass(frozen=True)
class VersionPage:
    version: HealthModelVersion
    previous: HealthModelVersion | None
    live_version: int
    changes: list[tuple[str, str, str]]  # (what, before, after) from the previous version


def model_version_page(number: int) -> VersionPage:
    """One version, the one before it and what changed between them (two queries, plus the live version's)."""
    pair = list(
        HealthModelVersion.objects.select_related("created_by").filter(version__lte=number).order_by("-version")[:2]
    )
    if not pair or pair[0].version != number:
        raise Http404("No such health model version.")
    version = pair[0]
    previous = pair[1] if len(pair) > 1 else None
    return VersionPage(
        version=version,
        previous=previous,
        live_version=live_version().version,
        changes=definition_changes(previous.definition if previous else None, version.definition),
    )
