"""Regions and owners a CRM file names that Tamarind does not know yet, counted line by line while a file is checked.

A CRM export into a fresh install names regions and people Tamarind has never seen. The importer still refuses
each such line with its own message, and also counts here which regions and which owners (TAM, SAL / AE, SA, as
written in the file) are missing and on how many lines, so the dry run can list them once instead of a thousand
times. Two options of an import job act on them:

- ``create_regions``: a missing region is created by the import (``people.services.region_create``, audited, in
  the import's own transaction, so a failed import leaves no region behind). Until then its rows carry a negative
  placeholder id that ``writer.write_staged`` swaps for the new region's id.
- ``skip_unknown_owners``: a line whose owner is missing is imported without that owner (a new account gets none,
  an existing one keeps its own). People are never created by an import: they need a role, a region and a way to
  sign in. Such a row keeps no import digest, so the next import of the same file reads it again and sets the
  owner once the person exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tamarind.imports.columns import CellError
from tamarind.people.models import Region

# The most distinct regions and owners one job lists (their line counts go on past it).
MAX_LISTED = 200
# More new regions than this in one file is a wrong column, not a new sales organisation.
MAX_NEW_REGIONS = 50
REGION_NAME_MAX = Region._meta.get_field("name").max_length or 80
OWNER_ROLES = {"tam": "TAM", "sal": "SAL / AE", "sa": "Solutions Architect"}


class UnknownRegion(CellError):
    """A region cell that names no region of Tamarind (``name`` as the file spells it, after synonyms)."""

    def __init__(self, key: str, name: str) -> None:
        super().__init__("is not a known region")
        self.key = key
        self.name = name


class UnknownPerson(CellError):
    """An owner cell that names no person of Tamarind (by email or full name); ``raw`` as the file has it."""

    def __init__(self, raw: str) -> None:
        super().__init__("is not a known person")
        self.raw = raw


@dataclass
class Tally:
    value: str
    lines: int = 0
    first_line: int = 0

    def count(self, line: int) -> None:
        self.lines += 1
        if not self.first_line:
            self.first_line = line


class UnknownRefs:
    """What one run of the importer found missing, and what its options did about it."""

    def __init__(self, *, create_regions: bool = False, skip_unknown_owners: bool = False) -> None:
        self.create_regions = create_regions
        self.skip_unknown_owners = skip_unknown_owners
        self.regions: dict[str, Tally] = {}
        self.placeholders: dict[str, int] = {}
        self.owners: dict[tuple[str, str], Tally] = {}
        self.region_errors = 0
        self.owner_errors = 0
        self.owner_lines = 0  # lines with at least one missing owner
        self._last_owner_line = 0

    def region(self, line: int, exc: UnknownRegion) -> int | None:
        """Count a line that names a missing region. Returns the placeholder id its row carries when the import
        creates regions; None when the line is an error (the caller reports ``exc``). Raises ``CellError`` for a
        name no region could have: that is an error whatever the options."""
        if len(exc.name) > REGION_NAME_MAX:
            raise CellError(f"is not a known region, and too long to be one (at most {REGION_NAME_MAX} characters)")
        tally = self.regions.get(exc.key)
        if tally is None:
            tally = self.regions[exc.key] = Tally(exc.name)
        tally.count(line)
        if not self.create_regions:
            self.region_errors += 1
            return None
        placeholder = self.placeholders.get(exc.key)
        if placeholder is None:
            placeholder = self.placeholders[exc.key] = -(len(self.placeholders) + 1)
        return placeholder

    def owner(self, line: int, field: str, raw: str) -> bool:
        """Count a line whose ``field`` (tam, sal, sa) names a missing person; True when it is imported without."""
        key = (field, " ".join(raw.split()).casefold())
        tally = self.owners.get(key)
        if tally is None:
            tally = self.owners[key] = Tally(raw)
        tally.count(line)
        if line != self._last_owner_line:  # lines come in file order
            self._last_owner_line = line
            self.owner_lines += 1
        if not self.skip_unknown_owners:
            self.owner_errors += 1
        return self.skip_unknown_owners

    def new_region_names(self) -> list[str]:
        """The regions to create, in placeholder order (-1 first)."""
        names = {self.placeholders[key]: self.regions[key].value for key in self.placeholders}
        return [names[-i] for i in range(1, len(names) + 1)]

    def too_many_regions(self) -> str | None:
        """Why the file may not create its regions (None when it may)."""
        count = len(self.placeholders)
        if count <= MAX_NEW_REGIONS:
            return None
        return (
            f"the file names {count} regions Tamarind does not know; an import creates at most {MAX_NEW_REGIONS} "
            "(is the right column mapped as Region?)"
        )

    def summary(self, *, error_count: int, created: dict[str, int] | None = None) -> dict[str, Any]:
        """The JSON an import job keeps (``ImportJob.unknown``); ``{}`` when nothing was missing.

        ``other_errors`` counts the errors no option resolves: when it is 0, importing again with
        ``create_regions`` and (if owners are missing) ``skip_unknown_owners`` would go through.
        """
        if not self.regions and not self.owners:
            return {}
        created = created or {}
        regions = sorted(self.regions.items(), key=lambda item: (-item[1].lines, item[1].value.casefold()))
        owners = sorted(
            self.owners.items(), key=lambda item: (list(OWNER_ROLES).index(item[0][0]), -item[1].lines, item[1].value)
        )
        return {
            "regions": [
                {"name": t.value, "lines": t.lines, "first_line": t.first_line, "id": created.get(key)}
                for key, t in regions[:MAX_LISTED]
            ],
            "regions_total": len(regions),
            "owners": [
                {"field": f, "role": OWNER_ROLES[f], "value": t.value, "lines": t.lines, "first_line": t.first_line}
                for (f, _), t in owners[:MAX_LISTED]
            ],
            "owners_total": len(owners),
            "region_lines": sum(t.lines for t in self.regions.values()),
            "owner_lines": self.owner_lines,
            "region_errors": self.region_errors,
            "owner_errors": self.owner_errors,
            "other_errors": error_count - self.region_errors - self.owner_errors,
            "create_regions": self.create_regions,
            "skip_unknown_owners": self.skip_unknown_owners,
            "regions_created": bool(created),
        }
