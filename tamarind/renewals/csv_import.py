"""CRM renewal opportunities and ARR history through the import jobs (``imports`` runs a job of kind
``opportunities`` or ``arr_history`` here), with the importer's contract: a file imports whole or not at all, every
problem is reported with its line number, a dry run writes nothing, and importing the same file again changes
nothing.

Opportunities (a Salesforce report): ``Opportunity ID, Account ID, Close Date, Amount, Stage, Forecast Category,
Next Step``. A line updates the renewal with that opportunity id, else the account's renewal on the close date
(which takes the id), else creates the renewal; its next step is added once. ARR history: ``Account ID, Month,
ARR`` (``2026-03`` or any day of the month), one row per account and month.

Pass 1 streams the file and checks every cell and reference (accounts by CRM id, the importer's right to write each
account's renewals); pass 2 writes the parsed rows in one transaction through the renewals services' bulk paths.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record_many, build_event, snapshot
from tamarind.core.csv_safe import unescape_cell
from tamarind.core.errors import ValidationFailed
from tamarind.imports.columns import CellError, parse_date
from tamarind.imports.importer import FileRejected
from tamarind.imports.ingest import CsvIngestBase
from tamarind.renewals import rules
from tamarind.renewals.models import RENEWAL_FIELDS, RISK_FORECASTS, Renewal, RenewalStep

OPPORTUNITY_COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "opportunity": (("Opportunity ID", "Opportunity Id", "Opportunity", "opportunity_id"), True),
    "account": (("Account ID", "Account Id", "CRM ID", "account_id"), True),
    "close_date": (("Close Date", "Renewal Date", "close_date"), True),
    "amount": (("Amount", "ARR", "Renewal ARR"), True),
    "stage": (("Stage", "Stage Name"), False),
    "forecast": (("Forecast Category", "Forecast", "Forecast Category Name"), False),
    "next_step": (("Next Step", "Next Steps"), False),
}
HISTORY_COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "account": (("Account ID", "Account Id", "CRM ID", "account_id"), True),
    "month": (("Month", "Date", "Snapshot Month"), True),
    "arr": (("ARR", "Amount"), True),
}


@dataclass
class Opportunity:
    line: int
    opportunity: str
    account_id: int
    close_date: dt.date
    amount: Decimal
    stage: str
    forecast: str
    next_step: str


class RenewalsIngest(CsvIngestBase):
    """One run of an opportunities or ARR history file; ``run()`` returns an ``ImportResult``."""

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.columns = OPPORTUNITY_COLUMNS if kind == "opportunities" else HISTORY_COLUMNS

    def _ingest(self) -> None:
        rows = list(self._rows())
        self.result.total = len(rows)
        if self.result.ok and rows:
            write = self._write_opportunities if self.kind == "opportunities" else self._write_history
            self._commit(lambda: write(rows))

    # --- reading ------------------------------------------------------------------------------------------------

    def _rows(self) -> Iterator[Any]:
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise FileRejected("the file is empty")
            self._match(header)
            width = max(self.index.values()) + 1
            parsed: list[tuple[int, dict[str, str]]] = []
            previous = reader.line_num
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                cells = cells + [""] * max(0, width - len(cells))
                values = {f: unescape_cell(cells[i].strip()) for f, i in self.index.items()}
                bad = [f for f, v in values.items() if "\x00" in v]
                for f in bad:
                    self._error(line, f, "", "contains a NUL character")
                if not bad:
                    parsed.append((line, values))
        crms = {v["account"] for _, v in parsed if v.get("account")}
        accounts = {a.crm_id: a for a in Account.objects.filter(crm_id__in=crms).select_related("region")}
        if self.kind == "opportunities":
            yield from self._opportunities(parsed, accounts)
        else:
            yield from self._history(parsed, accounts)

    def _account(self, line: int, raw: str, accounts: dict[str, Account]) -> Account | None:
        if not raw:
            self._error(line, "account", "", "is required")
            return None
        account = accounts.get(raw)
        if account is None:
            self._error(line, "account", raw, "is not an account Tamarind knows")
        return account

    def _money(self, line: int, field: str, raw: str) -> Decimal | None:
        try:
            return rules.parse_money(raw, field)
        except ValidationFailed as exc:
            self._error(line, field, raw, next(iter(exc.errors.values()))[0].rstrip(".").lower().replace("'", ""))
            return None

    def _date(self, line: int, field: str, raw: str) -> dt.date | None:
        try:
            return parse_date(raw)
        except CellError as exc:
            self._error(line, field, raw, str(exc))
            return None

    def _opportunities(
        self, parsed: list[tuple[int, dict[str, str]]], accounts: dict[str, Account]
    ) -> Iterator[Opportunity]:
        seen: dict[str, int] = {}
        for line, v in parsed:
            account = self._account(line, v.get("account", ""), accounts)
            opp = v.get("opportunity", "")
            if not opp:
                self._error(line, "opportunity", "", "is required")
            elif len(opp) > 64:
                self._error(line, "opportunity", opp, "is longer than 64 characters")
            elif opp in seen:
                self._error(line, "opportunity", opp, f"repeats line {seen[opp]}")
            else:
                seen[opp] = line
            close = self._date(line, "close_date", v.get("close_date", ""))
            amount = self._money(line, "amount", v.get("amount", ""))
            forecast = ""
            if v.get("forecast"):
                try:
                    forecast = rules.parse_forecast(v["forecast"])
                except ValidationFailed:
                    self._error(
                        line,
                        "forecast",
                        v["forecast"],
                        "is not a forecast category (commit, likely, at risk, will churn)",
                    )
            if account is not None and not policy.can_write_renewal_for(self.actor, account):
                self._error(line, "account", account.crm_id, "is an account whose renewals you may not write")
            if len(v.get("next_step", "")) > 500 or len(v.get("stage", "")) > 100:
                self._error(line, "next_step", "", "is too long (next step 500, stage 100 characters at most)")
            if self.result.ok and account is not None and close is not None and amount is not None:
                yield Opportunity(
                    line, opp, account.pk, close, amount, v.get("stage", ""), forecast, v.get("next_step", "")
                )

    def _history(
        self, parsed: list[tuple[int, dict[str, str]]], accounts: dict[str, Account]
    ) -> Iterator[tuple[int, dt.date, Decimal]]:
        seen: dict[tuple[int, dt.date], int] = {}
        for line, v in parsed:
            account = self._account(line, v.get("account", ""), accounts)
            raw = v.get("month", "")
            month = None
            if len(raw) == 7 and raw[4] == "-":
                raw_day = raw + "-01"
                month = self._date(line, "month", raw_day) if raw_day else None
            else:
                month = self._date(line, "month", raw)
            arr = self._money(line, "arr", v.get("arr", ""))
            if account is None or month is None:
                continue
            key = (account.pk, month.replace(day=1))
            if key in seen:
                self._error(line, "month", raw, f"repeats line {seen[key]} for this account")
                continue
            seen[key] = line
            if arr is not None:
                yield (account.pk, month.replace(day=1), arr)

    # --- writing ------------------------------------------------------------------------------------------------

    def _write_history(self, rows: list[tuple[int, dt.date, Decimal]]) -> dict[str, int]:
        from tamarind.renewals.services import arr_history_write

        return arr_history_write(rows, source="import")

    def _write_opportunities(self, rows: list[Opportunity]) -> dict[str, int]:
        from tamarind.renewals.services import _forecast_alert

        counts = {"created": 0, "updated": 0, "unchanged": 0}
        now = timezone.now()
        account_ids = {o.account_id for o in rows}
        by_opp = {
            r.crm_opportunity_id: r
            for r in Renewal.objects.filter(crm_opportunity_id__in=[o.opportunity for o in rows])
        }
        by_date = {(r.account_id, r.renewal_date): r for r in Renewal.objects.filter(account_id__in=account_ids)}
        accounts = Account.objects.select_related("region__manager", "tam").in_bulk(account_ids)
        steps = {
            (s.renewal_id, s.text)
            for s in RenewalStep.objects.filter(renewal__account_id__in=account_ids).only("renewal_id", "text")
        }
        events = []
        alerts: list[Renewal] = []
        for o in rows:
            renewal = by_opp.get(o.opportunity) or by_date.get((o.account_id, o.close_date))
            account = accounts[o.account_id]
            if renewal is None:
                renewal = Renewal(
                    account=account, renewal_date=o.close_date, arr=o.amount, currency=account.currency,
                    owner_id=account.sal_id, tam_id=account.tam_id, created_at=now, updated_at=now,
                )  # fmt: skip
                before = None
            else:
                renewal.account = account
                before = snapshot(renewal, RENEWAL_FIELDS)
            if renewal.pk is not None and renewal.renewal_date != o.close_date:
                other = by_date.get((o.account_id, o.close_date))
                if other is not None and other.pk != renewal.pk:
                    raise ValidationFailed(
                        {
                            "close_date": [
                                f"line {o.line}: Close Date {o.close_date} is the date of another renewal of this account."
                            ]
                        }
                    )
            old_forecast = renewal.forecast
            renewal.crm_opportunity_id = o.opportunity
            renewal.renewal_date = o.close_date
            renewal.crm_stage = o.stage
            if renewal.is_open:
                renewal.arr = o.amount
                if o.forecast:
                    renewal.forecast = o.forecast
            after = snapshot(renewal, RENEWAL_FIELDS)
            if before is None:
                renewal.save()
                by_date[(o.account_id, o.close_date)] = renewal
                counts["created"] += 1
                events.append(
                    build_event(
                        actor=self.actor,
                        obj=renewal,
                        action=AuditAction.CREATE,
                        before=None,
                        after=after,
                        source="import",
                        at=now,
                    )
                )
            else:
                changed = [f for f in RENEWAL_FIELDS if before[f] != after[f]]
                if changed:
                    fields = list(changed)
                    if "forecast" in changed:
                        renewal.previous_forecast = old_forecast
                        renewal.forecast_changed_at = now
                        fields += ["previous_forecast", "forecast_changed_at"]
                    renewal.updated_at = now
                    renewal.save(update_fields=[*fields, "updated_at"])
                    counts["updated"] += 1
                    events.append(build_event(
                        actor=self.actor, obj=renewal, action=AuditAction.UPDATE,
                        before={f: before[f] for f in changed}, after={f: after[f] for f in changed},
                        source="import", at=now,
                    ))  # fmt: skip
                else:
                    counts["unchanged"] += 1
            if renewal.forecast in RISK_FORECASTS and renewal.forecast != old_forecast and renewal.is_open:
                alerts.append(renewal)
            if o.next_step and (renewal.pk, o.next_step) not in steps:
                step = RenewalStep.objects.create(
                    renewal=renewal, text=o.next_step, created_by=self.actor, created_at=now
                )
                steps.add((renewal.pk, o.next_step))
                events.append(
                    build_event(
                        actor=self.actor,
                        obj=step,
                        action=AuditAction.CREATE,
                        before=None,
                        after={"renewal": renewal.pk, "text": o.next_step},
                        source="import",
                        at=now,
                    )
                )
        audit_record_many(events)
        for renewal in alerts:
            _forecast_alert(self.actor, renewal)
        return counts
