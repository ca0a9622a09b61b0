"""Alerts, because nobody checks a website daily.

When a need or order is published, the authors of the ideas it fits at "good" or better are told;
when an idea is published, the authors of the open needs and research orders it fits (an order's
author is the department staff member who wrote it). The matching runs in a job after the
publish (:func:`match_alerts`, queued by services.submissions; ranked with the stored vectors of
everyone else's texts: the publishing request never ranks), and the alert is an in-app
notification whose link opens the recipient's own submission at the match and its reasons.
Once a day :func:`send_digests` e-mails each person who wants it one digest, in their language, of
their alerts since the last digest and of what was newly published in the sectors and former
districts they follow (:class:`models.Follow`); nothing is sent when nothing is new. The job worker
runs it at ``DIGEST_TIME`` on the province's clock (:func:`schedule_digest`, from its maintenance);
the ``send-digests`` command runs it by hand, or from cron where there is no worker (no Redis).

What a digest shows obeys the pages' rules: a confidential need's company and text only to its
author and staff (its title, as lists show it), members-only ideas to account holders (every
recipient has one).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from extensions import db
from matching.embedders import ModelMissingError
from models import Follow, FollowTopic, Notification, Place, Sector, Submission, User
from models.people import utcnow
from services import collation, jobs, mail, notifications, submission_types
from services.formats import day, local_date, local_today
from services.labels import MATCH_BANDS
from services.match_index import match_index
from services.submission_types import BY_SLUG, IDEA, ORDER, TYPES, engine_id, to_item, type_of
from services.submissions import BrowseFilters, browse_conditions, can_see_details, can_view

log = logging.getLogger(__name__)

ALERT_KIND = "match_new"
ORDER_ALERT_KIND = "match_new_order"  # to a research order's author: staff, who wrote it for the ordering body
ALERT_KINDS = (ALERT_KIND, ORDER_ALERT_KIND)
ALERT_BAND = "good"     # alerts at "good" or better, never at "possible"
ALERT_TOP_K = 50        # the most people one publish alerts
FIRST_DIGEST_LOOKBACK = timedelta(days=1)
# How long Redis keeps a day's digest job once done, so that no second one is scheduled for that day.
DIGEST_JOB_KEPT = timedelta(days=2)


# --- alerts on publish -------------------------------------------------------------

def match_alerts(ref: str) -> int:
    """Job: tell the authors on the other side whose submissions the newly published ``ref`` fits at
    :data:`ALERT_BAND` or better (ideas' authors of a need or order; needs' and research orders'
    authors of an idea), in app. Only submissions still open are alerted for (a need or an order
    past its deadline, in the province's date, takes no more proposals), and only people who may
    see ``ref`` in full are told (a confidential need alerts nobody: its band against an idea
    would tell of its hidden text). Idempotent: a person already alerted to the pair is not
    alerted again. Returns how many were alerted."""
    sub = submission_types.load([ref]).get(ref)
    if sub is None or not sub.is_published:
        return 0
    try:
        index = match_index()
        index.refresh()
        matches = index.rank(to_item(sub), top_k=ALERT_TOP_K, min_band=ALERT_BAND)
    except ModelMissingError as missing:
        log.warning("No alerts for %s: %s", ref, missing)
        return 0
    others = submission_types.load(m.item_id for m in matches)
    new_type = type_of(sub)
    today = local_today()
    count = 0
    for match in matches:  # only the other side: ideas for a need or an order, needs and orders for an idea
        mine = others.get(match.item_id)
        if mine is None or not mine.is_open(today):
            continue
        person = mine.owner
        # an idea held for its author (imported, no account) has no one to alert: its holder is staff
        held = type_of(mine) is IDEA and mine.held_for_author
        if (held or person.id == sub.owner_id or not person.active or not can_view(person, sub)
                or not can_see_details(person, sub)):
            continue
        params = {"mine": mine.title, "new": sub.title, "band": match.band, "slug": type_of(mine).slug,
                  "item": mine.id, "new_slug": new_type.slug, "new_item": sub.id}
        kind = ORDER_ALERT_KIND if type_of(mine) is ORDER else ALERT_KIND
        link = notifications.link_for(kind, params, person)
        if db.session.scalar(sa.select(Notification.id).where(Notification.user_id == person.id,
                                                              Notification.link == link)):
            continue
        notifications.notify(person, kind, params, email=False)
        count += 1
    db.session.commit()
    return count


# --- following ---------------------------------------------------------------------

def follows_of(user: User) -> list[Follow]:
    return list(db.session.scalars(sa.select(Follow).where(Follow.user_id == user.id).order_by(Follow.id)))


def follow(user: User, topic: str, value: str) -> Follow | None:
    """Follow a sector (by code) or a former district; None when there is no such sector or
    district. Following twice keeps one follow."""
    if topic == FollowTopic.SECTOR.value:
        known = db.session.scalar(sa.select(Sector.id).where(Sector.code == value))
    elif topic == FollowTopic.DISTRICT.value:
        known = db.session.scalar(sa.select(Place.id).where(Place.former_district == value).limit(1))
    else:
        known = None
    if known is None:
        return None
    existing = db.session.scalar(sa.select(Follow).where(Follow.user_id == user.id, Follow.topic == topic,
                                                         Follow.value == value))
    if existing is None:
        existing = Follow(user_id=user.id, topic=topic, value=value)
        db.session.add(existing)
        db.session.commit()
    return existing


def unfollow(user: User, follow_id: int) -> bool:
    """Stop one of the user's follows; False when they have no such follow."""
    found = db.session.scalar(sa.select(Follow).where(Follow.id == follow_id, Follow.user_id == user.id))
    if found is None:
        return False
    db.session.delete(found)
    db.session.commit()
    return True


def followed_names(user: User) -> list[tuple[int, str]]:
    """(follow id, what is followed in the current language) of the user's follows, for the profile."""
    sectors = _sectors()
    language = collation.current_language()
    return [(item.id, follow_name(item, sectors, language)) for item in follows_of(user)]


def _sectors() -> dict[str, Sector]:
    return {s.code: s for s in db.session.scalars(sa.select(Sector))}


def follow_name(item: Follow, sectors: dict[str, Sector], language: str) -> str:
    """What the follow is about, as the reader says it: the sector's name or "Huyện cũ Bát Xát"."""
    if item.topic == FollowTopic.SECTOR.value:
        return _("Sector: %(name)s", name=sectors[item.value].name(language) if item.value in sectors else item.value)
    return _("Former district: %(name)s", name=item.value)


# --- the daily digest --------------------------------------------------------------

@dataclass
class DigestLine:
    """One thing in a digest: its words and the absolute link that opens it."""

    text: str
    url: str


@dataclass
class Digest:
    alerts: list[DigestLine]
    followed: list[tuple[str, list[DigestLine]]]   # (what is followed, what is new there)

    def __bool__(self) -> bool:
        return bool(self.alerts or any(lines for _, lines in self.followed))


def digest_for(user: User, since: datetime, until: datetime) -> Digest:
    """What is new for ``user`` between ``since`` and ``until`` (naive UTC), worded in the current
    language: their alerts, then each followed sector or district's submissions published since
    (and since it was followed; not their own; each listed once), as the pages would show them
    to this user."""
    alerts, seen = [], set()
    for note in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user.id, Notification.kind.in_(ALERT_KINDS),
            Notification.created_at > since, Notification.created_at <= until).order_by(Notification.id)):
        params = json.loads(note.params)
        band = MATCH_BANDS.get(params.get("band"), "")
        alerts.append(DigestLine(f"{band} · {notifications.text(note.kind, params)}",
                                 notifications.absolute_url(note.link or "/")))
        seen.add(f"{BY_SLUG[params['new_slug']].code}:{params['new_item']}")  # not again as followed
    language = user.preferred_language or "vi"
    sectors = _sectors()
    followed = []
    for item in follows_of(user):
        filters = (BrowseFilters(sector=item.value) if item.topic == FollowTopic.SECTOR.value
                   else BrowseFilters(district=item.value))
        lines = []
        for submission_type in TYPES:
            model = submission_type.model
            rows = db.session.scalars(sa.select(model).where(
                *browse_conditions(submission_type, user, filters), model.owner_id != user.id,
                model.published_at > max(since, item.created_at), model.published_at <= until)
                .order_by(model.published_at, model.id))
            for sub in rows:
                if engine_id(sub) not in seen and can_view(user, sub):
                    seen.add(engine_id(sub))
                    lines.append(_line(sub, user))
        followed.append((follow_name(item, sectors, language), lines))
    return Digest(alerts, [(name, lines) for name, lines in followed if lines])


def _line(sub: Submission, reader: User) -> DigestLine:
    """A followed submission in a digest: kind, title and who stands behind it, unless the reader
    may not know (a confidential need: "confidential company", never its text)."""
    submission_type = type_of(sub)
    who = sub.organisation_name if can_see_details(reader, sub) else _("Confidential company")
    text = f"{str(submission_type.label).capitalize()}: {sub.title}" + (f" · {who}" if who else "")
    path = current_app.url_map.bind("").build("submissions.detail", {"slug": submission_type.slug,
                                                                      "item_id": sub.id})
    return DigestLine(text, notifications.absolute_url(path))


def _sent_today(user: User, now: datetime) -> bool:
    """Whether the user's last digest was made on today's date in the province's time zone."""
    return user.digest_sent_at is not None and local_date(user.digest_sent_at) == local_date(now)


def send_digests(now: datetime | None = None) -> int:
    """Queue today's digest for every active person who wants one, has not had one today (in the
    province's time) and has something new since their last (or, the first time, in the last day).
    Each digest is committed with its person's new last-sent time, claimed only if no other run
    changed it since this one read it (:func:`_claim`): a run that stops halfway and is started
    again, or two runs at once (the worker's schedule and the command), send nobody two. The job
    the worker schedules daily (:func:`schedule_digest`) and the ``send-digests`` command. Returns
    how many were queued."""
    now = now or utcnow()
    profile = current_app.url_map.bind("").build("auth.profile") + "#digest"
    sent = 0
    for user in db.session.scalars(sa.select(User).where(User.active.is_(True), User.digest_emails.is_(True))
                                   .order_by(User.id)).all():
        if _sent_today(user, now):
            continue
        last = user.digest_sent_at
        since = last or now - FIRST_DIGEST_LOOKBACK
        with force_locale(user.preferred_language or "vi"):
            digest = digest_for(user, since, now)
            if not digest:
                continue
            subject = _("Lào Cai Innovation Match") + ": " + _("what is new for you, %(date)s", date=day(now))
            # straight from the environment: the pages' context (the signed-in user's bell) has no
            # meaning in a command or a job
            body = current_app.jinja_env.get_template("mail/digest.txt").render(
                user=user, digest=digest, profile_url=notifications.absolute_url(profile))
        if not _claim(user.id, last, now):  # another run (the schedule, a run by hand) made it meanwhile
            db.session.rollback()
            continue
        mail.queue(user.email, subject, body)
        db.session.commit()
        sent += 1
    return sent


def _claim(user_id: int, last: datetime | None, now: datetime) -> bool:
    """Record ``now`` as the person's last digest, on condition that it is still ``last`` (what
    this run read): of two runs at once, the second's UPDATE finds the value changed (PostgreSQL
    waits for the first's commit, then checks again; SQLite writes one at a time) and changes no
    row. So a person never gets two digests, whatever runs side by side. Not committed here."""
    unchanged = User.digest_sent_at.is_(None) if last is None else User.digest_sent_at == last
    result = db.session.execute(sa.update(User).where(User.id == user_id, unchanged).values(digest_sent_at=now)
                                .execution_options(synchronize_session=False))
    return result.rowcount == 1


# --- the daily schedule ------------------------------------------------------------

def next_digest_at(now: datetime, at: time, zone: tzinfo) -> datetime:
    """When the daily digest is next due: ``at`` (a wall-clock time) on ``zone``'s clock, on the
    day ``now`` falls on there if that is still ahead, else on the next day. ``now`` and the
    result are naive UTC, as stored times are. A day is counted on the calendar, not as 24 hours,
    so a zone that changes its clock keeps the wall-clock time."""
    local = now.replace(tzinfo=UTC).astimezone(zone)
    due = datetime.combine(local.date(), at, tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return due.astimezone(UTC).replace(tzinfo=None)


def schedule_digest(now: datetime | None = None) -> str | None:
    """Make sure the next daily digest is scheduled (``DIGEST_TIME`` in ``BABEL_DEFAULT_TIMEZONE``),
    as the RQ job ``digest-<yyyy-mm-dd>`` (the province's date): the job worker's maintenance
    calls this at start and every ``JOBS_MAINTENANCE_INTERVAL`` seconds, and however many workers
    ask, and however often, that day has one job (:func:`services.jobs.schedule`). Once it has
    run, the next call schedules the next day's. A day whose job Redis lost before it ran (Redis
    restarted empty, no worker at the time) gets none: the next day's digest covers what it would
    have (each covers what came after the person's last one). Returns the job id when this call
    scheduled it, else None. Needs Redis."""
    job_id, due = next_digest(now or utcnow())
    return job_id if jobs.schedule(due, "send_digests", job_id=job_id, keep=DIGEST_JOB_KEPT) else None


def next_digest(now: datetime) -> tuple[str, datetime]:
    """The next daily digest after ``now`` (naive UTC) under the app's ``DIGEST_TIME`` and zone:
    its job id, ``digest-<yyyy-mm-dd>`` (the province's date), and when it is due (naive UTC)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    due = next_digest_at(now, current_app.config["DIGEST_TIME"], zone)
    return f"digest-{due.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d}", due
