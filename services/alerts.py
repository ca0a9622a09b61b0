"""Alerts, because nobody checks a website daily.

When a need or order is published, the authors of the ideas it fits at "good" or better are told;
when an idea is published, the authors of the needs it fits. The matching runs in a job after the
publish (:func:`match_alerts`, queued by services.submissions; ranked with the stored vectors of
everyone else's texts: the publishing request never ranks), and the alert is an in-app
notification whose link opens the recipient's own submission at the match and its reasons.
Once a day :func:`send_digests` (the ``send-digests`` command, from cron) e-mails each person who
wants it one digest, in their language, of their alerts since the last digest and of what was
newly published in the sectors and former districts they follow (:class:`models.Follow`);
nothing is sent when nothing is new.

What a digest shows obeys the pages' rules: a confidential need's company and text only to its
author and staff (its title, as lists show it), members-only ideas to account holders (every
recipient has one).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, to_user_timezone
from flask_babel import gettext as _

from extensions import db
from matching.embedders import ModelMissingError
from models import Follow, FollowTopic, Notification, Place, Sector, Submission, User
from models.people import utcnow
from services import collation, mail, notifications, submission_types
from services.formats import day
from services.labels import MATCH_BANDS
from services.match_index import match_index
from services.submission_types import BY_SLUG, IDEA, NEED, TYPES, engine_id, to_item, type_of
from services.submissions import BrowseFilters, browse_conditions, can_see_details, can_view

log = logging.getLogger(__name__)

ALERT_KIND = "match_new"
ALERT_BAND = "good"     # alerts at "good" or better, never at "possible"
ALERT_TOP_K = 50        # the most people one publish alerts
FIRST_DIGEST_LOOKBACK = timedelta(days=1)


# --- alerts on publish -------------------------------------------------------------

def match_alerts(ref: str) -> int:
    """Job: tell the authors on the other side whose submissions the newly published ``ref`` fits at
    :data:`ALERT_BAND` or better (ideas' authors of a need or order, needs' authors of an idea), in
    app. Only people who may see ``ref`` in full are told (a confidential need alerts nobody: its
    band against an idea would tell of its hidden text). Idempotent: a person already alerted to
    the pair is not alerted again. Returns how many were alerted."""
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
    count = 0
    for match in matches:
        mine = others.get(match.item_id)
        if mine is None or not mine.is_published or (new_type is IDEA and type_of(mine) is not NEED):
            continue
        person = mine.owner
        # an idea held for its author (imported, no account) has no one to alert: its holder is staff
        held = type_of(mine) is IDEA and mine.held_for_author
        if (held or person.id == sub.owner_id or not person.active or not can_view(person, sub)
                or not can_see_details(person, sub)):
            continue
        params = {"mine": mine.title, "new": sub.title, "band": match.band, "slug": type_of(mine).slug,
                  "item": mine.id, "new_slug": new_type.slug, "new_item": sub.id}
        link = notifications.link_for(ALERT_KIND, params, person)
        if db.session.scalar(sa.select(Notification.id).where(Notification.user_id == person.id,
                                                              Notification.link == link)):
            continue
        notifications.notify(person, ALERT_KIND, params, email=False)
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
            Notification.user_id == user.id, Notification.kind == ALERT_KIND,
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
    return (user.digest_sent_at is not None
            and to_user_timezone(user.digest_sent_at).date() == to_user_timezone(now).date())


def send_digests(now: datetime | None = None) -> int:
    """Queue today's digest for every active person who wants one, has not had one today (in the
    province's time) and has something new since their last (or, the first time, in the last day).
    Each digest is committed with its person's new last-sent time, so a run that stops halfway
    and is started again sends nobody two. Returns how many were queued."""
    now = now or utcnow()
    profile = current_app.url_map.bind("").build("auth.profile") + "#digest"
    sent = 0
    for user in db.session.scalars(sa.select(User).where(User.active.is_(True), User.digest_emails.is_(True))
                                   .order_by(User.id)).all():
        if _sent_today(user, now):
            continue
        since = user.digest_sent_at or now - FIRST_DIGEST_LOOKBACK
        with force_locale(user.preferred_language or "vi"):
            digest = digest_for(user, since, now)
            if not digest:
                continue
            subject = _("Lào Cai Innovation Match") + ": " + _("what is new for you, %(date)s", date=day(now))
            # straight from the environment: the pages' context (the signed-in user's bell) has no
            # meaning in a command or a job
            body = current_app.jinja_env.get_template("mail/digest.txt").render(
                user=user, digest=digest, profile_url=notifications.absolute_url(profile))
        mail.queue(user.email, subject, body)
        user.digest_sent_at = now
        db.session.commit()
        sent += 1
    return sent
