"""Reports per campaign and per building / estate, with charts, and the exports for the weekly
meeting (XLSX, CSV)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from admin import exports
from admin.db import db
from admin.i18n import SHANGHAI, aware
from ivr.policy.windows import local_today
from admin.labels import DISPOSITIONS, DISPOSITION_TONE, PROMISE_STATUSES, label
from admin.scope import TEST_CAMPAIGN_NAME, account_scope, campaign_scope, visible_campaign
from admin.security import audit, require
from ivr.storage import Account, Attempt, Campaign, Contact, Payment, Phone

from . import charts

bp = Blueprint("reports", __name__, url_prefix="/reports")

REACHED = ("answered", "hung_up_early", "opted_out")

OUTCOMES = {  # per account, the most telling thing that happened, in this order
    "paid": (_l("Paid"), "good"),
    "promised": (_l("Promised a date"), "good"),
    "refused": (_l("Refused / complaint"), "bad"),
    "opted_out": (_l("Opted out"), "bad"),
    "unreachable": (_l("Unreachable"), "bad"),
    "reached": (_l("Reached, no date"), "warn"),
    "not_reached": (_l("Not reached yet"), "warn"),
    "not_called": (_l("Not called yet"), "muted"),
}


@dataclass
class AccountInfo:
    """The columns of an account a report needs (plain data: loading 10,000 ORM objects with
    their phones would cost most of a second)."""
    id: int
    room: str
    building: str
    area: str
    owner_name: str
    amount_owed: Decimal | None
    months_owed: int | None
    due_date: date | None
    account_class: str
    paid_at: datetime | None
    promised_date: date | None
    complaint: str | None
    note: str | None
    phones: list[str] = field(default_factory=list)


ACCOUNT_COLUMNS = (Account.id, Account.room, Account.building, Account.area, Account.owner_name,
                   Account.amount_owed, Account.months_owed, Account.due_date, Account.account_class,
                   Account.paid_at, Account.promised_date, Account.complaint, Account.note)


@dataclass
class Row:
    """One account in the report."""
    account: AccountInfo
    attempts: int = 0
    reached: bool = False
    unreachable: bool = False
    opted_out: bool = False
    refused: bool = False
    promised_date: date | None = None
    last_disposition: str | None = None
    last_call: datetime | None = None
    first_paid_on: date | None = None
    paid_since_start: Decimal = Decimal("0")

    @property
    def paid(self) -> bool:
        return self.account.paid_at is not None

    def promise(self, today: date) -> str | None:
        if self.promised_date is None:
            return None
        if self.first_paid_on is not None and self.first_paid_on <= self.promised_date:
            return "kept"
        return "broken" if today > self.promised_date else "pending"

    @property
    def outcome(self) -> str:
        if self.paid:
            return "paid"
        if self.promised_date:
            return "promised"
        if self.refused:
            return "refused"
        if self.opted_out:
            return "opted_out"
        if self.unreachable:
            return "unreachable"
        if self.reached:
            return "reached"
        return "not_reached" if self.attempts else "not_called"


@dataclass
class Summary:
    accounts: int = 0
    called: int = 0
    reached: int = 0
    promised: int = 0
    refused: int = 0
    unreachable: int = 0
    opted_out: int = 0
    owed: Decimal = Decimal("0")
    promised_amount: Decimal = Decimal("0")
    paid_amount: Decimal = Decimal("0")
    paid_before: int = 0
    paid_now: int = 0
    kept: int = 0
    broken: int = 0
    pending: int = 0
    outcomes: Counter = field(default_factory=Counter)

    def add(self, row: Row, start: date | None, today: date) -> None:
        a = row.account
        self.accounts += 1
        self.called += row.attempts > 0
        self.reached += row.reached
        self.promised += row.promised_date is not None
        self.refused += row.refused
        self.unreachable += row.unreachable
        self.opted_out += row.opted_out
        self.owed += a.amount_owed or 0
        if row.promised_date is not None:
            self.promised_amount += a.amount_owed or 0
        self.paid_amount += row.paid_since_start
        if row.paid and row.first_paid_on is not None and start is not None and row.first_paid_on < start:
            self.paid_before += 1
        self.paid_now += row.paid
        status = row.promise(today)
        if status:
            setattr(self, status, getattr(self, status) + 1)
        self.outcomes[row.outcome] += 1

    @property
    def rate_before(self) -> float | None:
        return self.paid_before / self.accounts if self.accounts else None

    @property
    def rate_now(self) -> float | None:
        return self.paid_now / self.accounts if self.accounts else None

    @property
    def kept_rate(self) -> float | None:
        due = self.kept + self.broken
        return self.kept / due if due else None


def _start_day(campaign: Campaign | None) -> date | None:
    if campaign is None or (campaign.started_at or campaign.created_at) is None:
        return None
    return aware(campaign.started_at or campaign.created_at).astimezone(SHANGHAI).date()


def rows_for(s: Session, campaign: Campaign | None, *, phones: bool = False) -> list[Row]:
    if campaign is not None:
        stmt = (select(*ACCOUNT_COLUMNS).join(Contact, Contact.account_id == Account.id)
                .where(Contact.campaign_id == campaign.id))
        attempt_filter = [Attempt.campaign_id == campaign.id]
    else:
        stmt = account_scope(select(*ACCOUNT_COLUMNS))
        attempt_filter = []
    rows = {r[0]: Row(AccountInfo(*r)) for r in s.execute(stmt)}
    if not rows:
        return []
    if phones:
        for account_id, number in s.execute(select(Phone.account_id, Phone.number)
                                            .order_by(Phone.account_id, Phone.position)):
            if account_id in rows:
                rows[account_id].account.phones.append(number)
    ids = list(rows)
    agg = (select(Attempt.account_id, func.count(Attempt.id),
                  func.max(case((Attempt.disposition.in_(REACHED), 1), else_=0)),
                  func.max(case((Attempt.disposition == "unreachable", 1), else_=0)),
                  func.max(case((Attempt.disposition == "opted_out", 1), else_=0)),
                  func.max(case((Attempt.choice == "opt_out", 1), else_=0)),
                  func.max(Attempt.promised_date), func.max(Attempt.id),
                  func.max(func.coalesce(Attempt.ended_at, Attempt.dialed_at)))
           .where(*attempt_filter, Attempt.disposition.is_not(None)).group_by(Attempt.account_id))
    last_ids = []
    for (account_id, n, reached, unreachable, opted, opt_choice, promised, last_id,
         last_call) in s.execute(agg):
        row = rows.get(account_id)
        if row is None:
            continue
        row.attempts, row.reached, row.unreachable = n, bool(reached), bool(unreachable)
        row.opted_out, row.promised_date = bool(opted or opt_choice), promised
        row.last_call = last_call
        last_ids.append(last_id)
    for chunk in range(0, len(last_ids), 900):
        for attempt_id, account_id, disposition in s.execute(
                select(Attempt.id, Attempt.account_id, Attempt.disposition)
                .where(Attempt.id.in_(last_ids[chunk:chunk + 900]))):
            rows[account_id].last_disposition = disposition
    for row in rows.values():
        a = row.account
        if a.account_class == "C":
            row.unreachable = True
        if a.account_class == "E" or a.complaint:
            row.refused = True
        if row.promised_date is None and campaign is None:
            row.promised_date = a.promised_date
    start = _start_day(campaign)
    pay_rows = s.execute(select(Payment.account_id, func.min(Payment.paid_on),
                                func.sum(case((Payment.paid_on >= (start or date.min), Payment.amount), else_=0)))
                         .group_by(Payment.account_id))
    for account_id, first, since in pay_rows:
        row = rows.get(account_id)
        if row is not None:
            row.first_paid_on, row.paid_since_start = first, Decimal(since or 0)
    return sorted(rows.values(), key=lambda r: (r.account.area, r.account.building, r.account.room))


def summarise(rows: list[Row], campaign: Campaign | None, group: str):
    start, today = _start_day(campaign), local_today()
    total = Summary()
    groups: dict[str, Summary] = defaultdict(Summary)
    for row in rows:
        total.add(row, start, today)
        key = (row.account.area if group == "area" else row.account.building) or _("(none)")
        groups[key].add(row, start, today)
    return total, dict(sorted(groups.items()))


def chart_outcomes(total: Summary):
    items = [(str(name), total.outcomes.get(code, 0), tone) for code, (name, tone) in OUTCOMES.items()
             if total.outcomes.get(code)]
    return charts.hbars(items, _("Outcome per account"))


def chart_promises(rows: list[Row]):
    today = local_today()
    per_day: dict[date, Counter] = defaultdict(Counter)
    for row in rows:
        status = row.promise(today)
        if status:
            per_day[row.promised_date][status] += 1
    if not per_day:
        return charts.stacked_columns([], [], "")
    days = []
    d, last = min(per_day), max(per_day)
    if (last - d).days > 60:
        days = sorted(per_day)
    else:
        while d <= last:
            days.append(d)
            d += timedelta(days=1)
    series = [(str(PROMISE_STATUSES[k]), tone, [per_day[x][k] for x in days])
              for k, tone in (("kept", "good"), ("pending", "info"), ("broken", "bad"))]
    return charts.stacked_columns(days, series, _("Promises by promised date"))


def chart_rate(rows: list[Row], campaign: Campaign | None):
    if not rows:
        return charts.line([], [], "")
    today = local_today()
    start = _start_day(campaign)
    first_day = (start - timedelta(days=7)) if start else today - timedelta(days=30)
    first_day = max(first_day, today - timedelta(days=120))
    paid_days = Counter()
    before = 0
    for row in rows:
        if row.paid and row.first_paid_on:
            if row.first_paid_on < first_day:
                before += 1
            else:
                paid_days[row.first_paid_on] += 1
    days, values, running = [], [], before
    d = first_day
    while d <= today:
        running += paid_days.get(d, 0)
        days.append(d)
        values.append(100.0 * running / len(rows))
        d += timedelta(days=1)
    return charts.line(days, values, _("Collection rate over time"), marker=start,
                       marker_label=_("campaign start"))


def _campaigns(s: Session):
    return s.scalars(campaign_scope(select(Campaign)).where(Campaign.name != TEST_CAMPAIGN_NAME)
                     .order_by(Campaign.id.desc()).limit(200)).all()


def _selected(s: Session) -> Campaign | None:
    arg = request.args.get("campaign", "")
    if arg == "all":
        return None
    if arg.isdigit():
        return visible_campaign(int(arg))
    latest = s.scalar(campaign_scope(select(Campaign)).where(Campaign.name != TEST_CAMPAIGN_NAME)
                      .order_by(Campaign.id.desc()).limit(1))
    return latest


@bp.route("/")
@require("viewer")
def index():
    s = db()
    campaign = _selected(s)
    group = "area" if request.args.get("group") == "area" else "building"
    rows = rows_for(s, campaign)
    total, groups = summarise(rows, campaign, group)
    dispositions = []
    if campaign is not None:
        dispositions = s.execute(select(Attempt.disposition, func.count()).where(
            Attempt.campaign_id == campaign.id, Attempt.disposition.is_not(None))
            .group_by(Attempt.disposition).order_by(func.count().desc())).all()
    return render_template(
        "reports/index.html", campaign=campaign, campaigns=_campaigns(s), group=group, total=total,
        groups=groups, outcomes=OUTCOMES, chart_outcomes=chart_outcomes(total),
        chart_promises=chart_promises(rows), chart_rate=chart_rate(rows, campaign),
        chart_dispositions=charts.hbars([(label(DISPOSITIONS, d), n, DISPOSITION_TONE.get(d, "muted"))
                                         for d, n in dispositions], _("Calls by result")),
        start=_start_day(campaign), all_selected=request.args.get("campaign") == "all")


def export_header() -> list[str]:
    return [_("Estate"), _("Building"), _("Room"), _("Owner"), _("Phones"), _("Amount owed"),
            _("Months owed"), _("Due date"), _("Class"), _("Calls"), _("Last result"), _("Last call"),
            _("Outcome"), _("Promised date"), _("Promise"), _("Paid on"), _("Paid since start"),
            _("Complaint"), _("Note")]


def export_rows(rows: list[Row]):
    today = local_today()
    for row in rows:
        a = row.account
        yield [a.area, a.building, a.room, a.owner_name, "、".join(a.phones),
               a.amount_owed, a.months_owed, a.due_date, a.account_class, row.attempts,
               label(DISPOSITIONS, row.last_disposition) if row.last_disposition else "",
               aware(row.last_call).astimezone(SHANGHAI).replace(tzinfo=None) if row.last_call else None,
               str(OUTCOMES[row.outcome][0]), row.promised_date,
               label(PROMISE_STATUSES, row.promise(today)) if row.promise(today) else "",
               row.first_paid_on if row.paid else None, row.paid_since_start, a.complaint or "",
               a.note or ""]


@bp.route("/export.<any(csv, xlsx):fmt>")
@require("viewer")
def export(fmt: str):
    s = db()
    campaign = _selected(s)
    group = "area" if request.args.get("group") == "area" else "building"
    rows = rows_for(s, campaign, phones=True)
    name = (campaign.name if campaign else _("All accounts"))
    stamp = local_today().strftime("%Y%m%d")
    filename = f"{_('Report')}-{name}-{stamp}.{fmt}".replace("/", "-")
    audit(s, "export.report", f"campaign:{campaign.id}" if campaign else "campaign:all", format=fmt,
          rows=len(rows))
    s.commit()
    if fmt == "csv":
        return exports.csv_response(filename, export_header(), export_rows(rows))
    total, groups = summarise(rows, campaign, group)
    summary_header = [_("Group"), _("Accounts"), _("Reached"), _("Promised"), _("Refused"),
                      _("Unreachable"), _("Opted out"), _("Amount owed"), _("Amount promised"),
                      _("Paid since start"), _("Collection rate before"), _("Collection rate now"),
                      _("Promises kept"), _("Promises broken")]

    def line(name, t: Summary):
        return [name, t.accounts, t.reached, t.promised, t.refused, t.unreachable, t.opted_out,
                t.owed, t.promised_amount, t.paid_amount,
                round(t.rate_before, 4) if t.rate_before is not None else None,
                round(t.rate_now, 4) if t.rate_now is not None else None, t.kept, t.broken]
    summary = [line(_("Total"), total)] + [line(k, v) for k, v in groups.items()]
    return exports.xlsx_response(filename, [(_("Summary"), summary_header, summary),
                                            (_("Accounts"), export_header(), export_rows(rows))])
