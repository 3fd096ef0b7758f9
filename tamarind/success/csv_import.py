"""Success plan CSV files through the import jobs (``imports`` runs a job of kind ``success_plans`` here).

One row per objective, with its plan and account by CRM id (the columns ``success.exports`` writes, so an export
imports back unchanged). The importer's contract: pass 1 reads the whole file and reports every problem with its
line number (unknown accounts or owners, bad choices or dates, a closed objective without an outcome, a due date
before the plan's start, plan fields that disagree between rows of one account) and writes nothing; pass 2 runs only
on a clean file, in one transaction, through the success services (each change policy-checked and audited), and a dry
run rolls it back. Objectives are matched by name within the account's current plan, so importing the same file
again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.core.csv_safe import unescape_cell
from tamarind.core.values import date_out_of_range
from tamarind.imports.importer import FileRejected
from tamarind.imports.ingest import CsvIngestBase
from tamarind.people.models import User
from tamarind.success import services
from tamarind.success.exports import COLUMNS
from tamarind.success.models import (
    ObjectiveCategory,
    ObjectivePriority,
    ObjectiveStatus,
    PlanStatus,
    SuccessPlan,
)

REQUIRED = ("account_crm_id",)
PLAN_KEYS = ("plan_status", "plan_start_on", "why_bought", "strategy", "highlights")


@dataclass
class _PlanRows:
    account: Account
    line: int
    plan: dict[str, Any]
    objectives: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class SuccessPlanIngest(CsvIngestBase):
    """One run of a success plans file (a plan's lines and its objectives' lines per account); ``run()`` returns an
    ``ImportResult``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = self.path.stat().st_size

    def _ingest(self) -> None:
        plans = self._read()
        if self.result.ok and plans:
            self._commit(lambda: self._write(plans))

    # --- pass 1 -----------------------------------------------------------------------------------------------------

    def _read(self) -> dict[str, _PlanRows]:
        with self.path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise FileRejected("the file is empty")
            names = [h.strip().lower() for h in header]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise FileRejected(f"missing column(s): {', '.join(missing)}")
            unknown = [h for h in names if h and h not in COLUMNS]
            if unknown:
                raise FileRejected(f"unknown column(s): {', '.join(unknown)} (expected {', '.join(COLUMNS)})")
            records: list[tuple[int, dict[str, str]]] = []
            for line, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if "\x00" in "".join(row):
                    self.result.add_error(line, "", "", "the row contains a NUL character")
                    continue
                records.append((line, {n: unescape_cell(v).strip() for n, v in zip(names, row, strict=False) if n}))
        self.result.total = len(records)
        crm_ids = {r["account_crm_id"] for _, r in records if r.get("account_crm_id")}
        accounts = {a.crm_id: a for a in Account.objects.filter(crm_id__in=crm_ids).select_related("region", "tam")}
        emails = {r["owner_email"].lower() for _, r in records if r.get("owner_email")}
        owners = {u.email.lower(): u for u in User.objects.with_region().filter(email__in=emails)} if emails else {}
        plans: dict[str, _PlanRows] = {}
        for line, record in records:
            self._check_row(line, record, accounts, owners, plans)
        return plans

    def _error(self, line: int, column: str, value: str, message: str) -> None:
        self.result.add_error(line, column, value[:80], message)

    def _date(self, line: int, row: dict[str, str], key: str) -> dt.date | None:
        raw = row.get(key, "")
        if not raw:
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            self._error(line, key, raw, "not a date (YYYY-MM-DD)")
            return None
        if date_out_of_range(value):
            self._error(line, key, raw, "date out of range")
            return None
        return value

    def _choice(self, line: int, row: dict[str, str], key: str, choices: Any) -> str | None:
        raw = row.get(key, "")
        if not raw:
            return None
        if raw not in choices.values:
            self._error(line, key, raw, f"choose one of: {', '.join(choices.values)}")
            return None
        return raw

    def _check_row(
        self,
        line: int,
        row: dict[str, str],
        accounts: dict[str, Account],
        owners: dict[str, User],
        plans: dict[str, _PlanRows],
    ) -> None:
        crm = row.get("account_crm_id", "")
        account = accounts.get(crm)
        if not crm:
            self._error(line, "account_crm_id", "", "required")
            return
        if account is None:
            self._error(line, "account_crm_id", crm, "no account has this CRM id")
            return
        if not policy.can_write_success_plan(self.actor, account):
            self._error(line, "account_crm_id", crm, "you may not write this account's success plan")
            return
        status = self._choice(line, row, "plan_status", PlanStatus)
        if status == PlanStatus.ARCHIVED:
            self._error(line, "plan_status", status, "import current plans only (draft or active)")
        plan_values: dict[str, Any] = {
            "status": status or PlanStatus.DRAFT,
            "start_on": self._date(line, row, "plan_start_on"),
            "why_bought": row.get("why_bought", ""),
            "strategy": row.get("strategy", ""),
            "highlights": row.get("highlights", ""),
        }
        entry = plans.get(crm)
        if entry is None:
            entry = plans[crm] = _PlanRows(account=account, line=line, plan=plan_values)
        elif entry.plan != plan_values:
            self._error(line, "plan_status", crm, f"plan fields differ from line {entry.line} of the same account")
        name = row.get("objective", "")
        if not name:
            if any(row.get(k) for k in ("category", "objective_status", "owner_email", "due_on", "outcome")):
                self._error(line, "objective", "", "an objective's fields without its name")
            return
        if len(name) > 200:
            self._error(line, "objective", name, "at most 200 characters")
        if any(name == n for _, o in entry.objectives for n in [o["name"]]):
            self._error(line, "objective", name, "the same objective twice for this account")
        owner = None
        email = row.get("owner_email", "")
        if email:
            owner = owners.get(email.lower())
            if owner is None:
                self._error(line, "owner_email", email, "no person has this email")
            elif not policy.can_read_account(owner, account):
                self._error(line, "owner_email", email, "this person cannot see the account")
        due = self._date(line, row, "due_on")
        start = plan_values["start_on"]
        if due and start and due < start:
            self._error(line, "due_on", due.isoformat(), "before the plan's start")
        objective_status = self._choice(line, row, "objective_status", ObjectiveStatus)
        if objective_status == ObjectiveStatus.CLOSED and not row.get("outcome"):
            self._error(line, "outcome", "", "a closed objective needs a summary of its outcome")
        data: dict[str, Any] = {
            "name": name,
            "owner": owner,
            "due_on": due,
            "category": self._choice(line, row, "category", ObjectiveCategory) or ObjectiveCategory.ADOPTION,
            "status": objective_status or ObjectiveStatus.NEW,
            "priority": self._choice(line, row, "priority", ObjectivePriority) or ObjectivePriority.MEDIUM,
            "success_criteria": row.get("success_criteria", ""),
            "outcome": row.get("outcome", ""),
        }
        entry.objectives.append((line, data))

    # --- pass 2 -----------------------------------------------------------------------------------------------------

    def _write(self, plans: dict[str, _PlanRows]) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for entry in plans.values():
            created, updated, unchanged = self._write_plan(entry)
            counts["created"] += created
            counts["updated"] += updated
            counts["unchanged"] += unchanged
        return counts

    def _write_plan(self, entry: _PlanRows) -> tuple[int, int, int]:
        """(created, updated, unchanged) rows for one account's plan and objectives."""
        plan_data = {k: v for k, v in entry.plan.items() if v is not None}
        plan = SuccessPlan.objects.current().filter(account=entry.account).select_related("account").first()
        created = updated = unchanged = 0
        if plan is None:
            plan = services.success_plan_create(
                actor=self.actor, account=entry.account, data=plan_data, source="import", use_template=False
            )
            plan_changed = True
        else:
            plan_changed = bool(
                services.success_plan_update(actor=self.actor, plan=plan, changes=plan_data, source="import")
            )
        existing = {o.name: o for o in plan.objectives.all()}
        if not entry.objectives:
            return (1, 0, 0) if plan_changed and not existing else (0, int(plan_changed), int(not plan_changed))
        for _line, data in entry.objectives:
            objective = existing.get(data["name"])
            if objective is None:
                services.objective_create(actor=self.actor, plan=plan, data=data, source="import")
                created += 1
            elif (
                services.objective_update(actor=self.actor, objective=objective, changes=data, source="import")
                or plan_changed
            ):
                updated += 1
            else:
                unchanged += 1
        return created, updated, unchanged
