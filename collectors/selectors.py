"""Reads of the collector's worklist: the overdue plans to follow up, in the order to follow them up, and each
collector's figures per ISO week."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from collectors.models import Assignment, Contact, Promise
from collectors.services import COLLECTOR_ROLES
from customers.selectors import customer_search
from installments.models import InstallmentPlan
from installments.selectors import installments_overdue_of, overdue_cutoff
from taqsit.models import Merchant, User
from taqsit.money import ZERO, sum_of


class Show:
    """Whose plans the worklist shows (or a collector's id)."""

    ALL = ""
    MINE = "mine"
    UNASSIGNED = "unassigned"


class PromiseFilter:
    ANY = ""
    BROKEN = "broken"
    OPEN = "open"
    NONE = "none"  # no promise waiting: never one, or the last one kept or replaced


class Order:
    PRIORITY = ""  # broken promises first, then plans without a promise waiting, then promises waiting
    PROMISE = "promise"  # by the promise's date, those without one last
    OLDEST = "oldest"  # by the oldest overdue installment


def promise_status_expression(today: date) -> Case:
    """A promise's status as the lists show it on ``today``: an open one whose date has passed is broken even
    before the daily step has found it so (a payment recorded since would have kept it: the signal counts)."""
    return Case(
        When(status=Promise.Status.OPEN, promised_on__lt=today, then=Value(Promise.Status.BROKEN)),
        default=F("status"),
        output_field=CharField(),
    )


def collectors_list(*, merchant: Merchant) -> QuerySet[User]:
    """The merchant's active staff who may be given plans to follow up, by name."""
    return User.objects.filter(merchant=merchant, is_active=True, role__in=COLLECTOR_ROLES).order_by(
        "first_name", "last_name", "username"
    )


def worklist(
    *,
    merchant: Merchant,
    today: date,
    user: User | None = None,
    show: str = Show.ALL,
    promise: str = PromiseFilter.ANY,
    search: str = "",
    order: str = Order.PRIORITY,
) -> QuerySet[InstallmentPlan]:
    """The open plans with an overdue installment, each with what is overdue (``overdue_amount``, since
    ``oldest_due``), its collector, its current promise (``promise_status`` as of ``today``, ``promise_on``,
    ``promise_amount``) and its last contact. By default a broken promise comes first (the longest broken
    first), then the plans with no promise waiting (the oldest overdue first), then the promises waiting (the
    soonest first)."""
    cutoff = overdue_cutoff(merchant, today=today)
    overdue = installments_overdue_of(plan=OuterRef("pk"), cutoff=cutoff)
    current = Promise.objects.filter(plan=OuterRef("pk"), closed_at__isnull=True).annotate(
        shown=promise_status_expression(today)
    )
    plans = (
        InstallmentPlan.objects.filter(merchant=merchant, status__in=InstallmentPlan.OPEN_STATUSES)
        .filter(Exists(overdue))
        .select_related("customer", "collector_assignment__collector")
        .annotate(
            overdue_amount=Subquery(
                overdue.order_by()
                .values("plan")
                .annotate(total=Sum(F("amount_due") - F("amount_paid")))
                .values("total"),
                output_field=sum_of("amount_due").output_field,
            ),
            oldest_due=Subquery(overdue.order_by("due_date").values("due_date")[:1], output_field=DateField()),
            promise_id=Subquery(current.values("pk")[:1]),
            promise_status=Subquery(current.values("shown")[:1], output_field=CharField()),
            promise_on=Subquery(current.values("promised_on")[:1], output_field=DateField()),
            promise_amount=Subquery(current.values("amount")[:1], output_field=sum_of("amount").output_field),
            last_contact_at=Subquery(
                Contact.objects.filter(plan=OuterRef("pk")).order_by("-contacted_at").values("contacted_at")[:1]
            ),
            rank=Case(
                When(promise_status=Promise.Status.BROKEN, then=Value(0)),
                When(promise_status=Promise.Status.OPEN, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
    )
    if show == Show.MINE and user is not None:
        plans = plans.filter(collector_assignment__collector=user)
    elif show == Show.UNASSIGNED:
        plans = plans.filter(~Exists(Assignment.objects.filter(plan=OuterRef("pk"))))
    elif show not in (Show.ALL, Show.MINE):
        plans = plans.filter(collector_assignment__collector_id=show)
    if promise == PromiseFilter.BROKEN:
        plans = plans.filter(promise_status=Promise.Status.BROKEN)
    elif promise == PromiseFilter.OPEN:
        plans = plans.filter(promise_status=Promise.Status.OPEN)
    elif promise == PromiseFilter.NONE:
        plans = plans.filter(rank=1)
    plans = customer_search(plans, search, path="customer__")
    if order == Order.PROMISE:
        return plans.order_by(F("promise_on").asc(nulls_last=True), "oldest_due", "number")
    if order == Order.OLDEST:
        return plans.order_by("oldest_due", "-overdue_amount", "number")
    first = Case(When(rank=1, then=F("oldest_due")), default=F("promise_on"), output_field=DateField())
    return plans.order_by("rank", first, "oldest_due", "number")


def plan_collection(*, plan: InstallmentPlan, today: date, limit: int = 10) -> dict:
    """What the plan's page shows of its follow-up: its collector, its current promise (status as of
    ``today``), its last promises and contacts."""
    promises = list(
        Promise.objects.filter(plan=plan)
        .annotate(shown=promise_status_expression(today))
        .select_related("collector")
        .order_by("-made_at")[:limit]
    )
    contacts = list(Contact.objects.filter(plan=plan).select_related("made_by").order_by("-contacted_at")[:limit])
    assignment = Assignment.objects.filter(plan=plan).select_related("collector").first()
    current = next((promise for promise in promises if promise.closed_at is None), None)
    return {
        "collector": assignment.collector if assignment else None,
        "promise": current,
        "promises": promises,
        "contacts": contacts,
    }


# Figures ----------------------------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class FigureRow:
    """One collector's week: promises made (and their amount) that week, promises due that week found kept or
    broken (and what the kept ones brought in), contacts made that week."""

    collector_id: uuid.UUID | None
    collector_name: str
    week_start: date
    promises_made: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    amount_promised: Decimal = ZERO
    amount_recovered: Decimal = ZERO
    contacts_made: int = 0

    @property
    def week(self) -> str:
        return iso_week(self.week_start)


@dataclass
class Figures:
    first_week: date
    last_week: date
    rows: list[FigureRow] = field(default_factory=list)

    @property
    def totals(self) -> FigureRow:
        total = FigureRow(collector_id=None, collector_name="", week_start=self.first_week)
        for row in self.rows:
            for name in (
                "promises_made",
                "promises_kept",
                "promises_broken",
                "amount_promised",
                "amount_recovered",
                "contacts_made",
            ):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total


def collector_figures(
    *, merchant: Merchant, today: date, last_week: date, weeks: int = 8, collector: uuid.UUID | str | None = None
) -> Figures:
    """Per collector and ISO week, from ``weeks`` weeks before the week of ``last_week`` to it: promises made
    and their amount (the week made), promises kept and broken and the payments counted toward the kept ones
    (the week of the promise's date; broken as of ``today``), contacts made (the week made, in the merchant's
    time zone). Three grouped queries; rows with nothing to show are left out."""
    last = week_start(last_week)
    first = last - timedelta(weeks=weeks - 1)
    end = last + timedelta(days=6)
    promises = Promise.objects.filter(merchant=merchant)
    contacts = Contact.objects.filter(merchant=merchant)
    if collector:
        promises = promises.filter(collector_id=collector)
        contacts = contacts.filter(made_by_id=collector)
    rows: dict[tuple, FigureRow] = {}

    def row(collector_id, week) -> FigureRow:
        key = (collector_id, week)
        if key not in rows:
            rows[key] = FigureRow(collector_id=collector_id, collector_name="", week_start=week)
        return rows[key]

    made = (
        promises.filter(made_on__range=(first, end))
        .annotate(week=TruncWeek("made_on", output_field=DateField()))
        .values("collector_id", "week")
        .annotate(count=Count("pk"), amount=sum_of("amount"))
        .order_by()
    )
    for line in made:
        figure = row(line["collector_id"], line["week"])
        figure.promises_made, figure.amount_promised = line["count"], line["amount"]
    outcomes = (
        promises.filter(promised_on__range=(first, end))
        .exclude(status=Promise.Status.REPLACED)
        .annotate(shown=promise_status_expression(today), week=TruncWeek("promised_on", output_field=DateField()))
        .values("collector_id", "week")
        .annotate(
            kept=Count("pk", filter=Q(shown=Promise.Status.KEPT)),
            broken=Count("pk", filter=Q(shown=Promise.Status.BROKEN)),
            recovered=sum_of("amount_counted", shown=Promise.Status.KEPT),
        )
        .order_by()
    )
    for line in outcomes:
        if line["kept"] or line["broken"]:
            figure = row(line["collector_id"], line["week"])
            figure.promises_kept, figure.promises_broken = line["kept"], line["broken"]
            figure.amount_recovered = line["recovered"]
    tz = merchant.tzinfo
    since = timezone.make_aware(datetime.combine(first, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    made_contacts = (
        contacts.filter(contacted_at__gte=since, contacted_at__lt=until)
        .annotate(week=TruncWeek("contacted_at", tzinfo=tz))
        .values("made_by_id", "week")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for line in made_contacts:
        row(line["made_by_id"], timezone.localtime(line["week"], tz).date()).contacts_made = line["count"]
    names = {user.pk: str(user) for user in User.objects.filter(pk__in={key[0] for key in rows})}
    for figure in rows.values():
        figure.collector_name = names.get(figure.collector_id, "")
    ordered = sorted(rows.values(), key=lambda figure: (-figure.week_start.toordinal(), figure.collector_name))
    return Figures(first_week=first, last_week=last, rows=ordered)
