"""The one place that knows each type of submission: ideas, technology needs and research orders.

For each type: its code ("idea", "need", "order": audit entries, the engine's ids, proposals,
rounds), its URL slug ("ideas", "needs", "orders"), its model, the side of a match it stands on,
its text fields, who may create it and its names. This module also turns a submission into the
engine's :class:`matching.ranking.Item` and an engine id back into a submission.

What belongs to one row (its organisation, its deadline, whether it is confidential) lives on the
model (``models/submissions.py``). Forms are presentation: ``web/forms/submissions.py`` holds one
per type, keyed by the slug. Adding a fourth type: see ``docs/architecture.md``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from matching.ranking import Item
from matching.text import clean_text
from models import Idea, MatchProposal, ResearchOrder, Role, Submission, TechnologyNeed
from models.people import STAFF_ROLES
from services.labels import SUBMISSION_TYPE_NAMES, SUBMISSION_TYPE_TITLES


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: there is one object per type
class SubmissionType:
    """One type of submission.

    ``side`` is the engine's side of a match ("idea" or "need": research orders are matched like
    needs); ``engine_kind`` the engine's kind for the whole type (ideas give their own
    ``Idea.kind`` instead); ``text_fields`` are embedded and searched, title first;
    ``public_text_fields`` stay searchable when the submission is confidential; ``stage_field``
    is the column the engine reads as the stage (an idea's own stage, the least mature stage a
    need accepts; orders have none).
    """

    code: str
    slug: str
    model: type[Submission]
    side: str
    engine_kind: str | None
    text_fields: tuple[str, ...]
    creator_roles: tuple[str, ...]
    label: object            # singular, lazy (Babel, services/labels.py): "technology need"
    title: object            # the list's heading, lazy (Babel): "Technology needs"
    stage_field: str | None = None
    label_set_prefix: str = ""   # ids in an exported labelled set (shared/eval/SCHEMA.md): "N12", "I5"
    public_text_fields: tuple[str, ...] = ("title",)
    # Searched beside the text fields (names of people and organisations); hidden with the details
    # of a confidential need. Every type is also found by its place's name and former district.
    search_extra_fields: tuple[str, ...] = ()
    # The orders a list offers (services/search.py SORTS); "relevance" only while searching.
    sorts: tuple[str, ...] = ("relevance", "newest")

    @property
    def description_fields(self) -> tuple[str, ...]:
        """The text fields after the title: the body the engine reads."""
        return tuple(f for f in self.text_fields if f != "title")

    @property
    def proposal_column(self):
        """The MatchProposal column that points at a need or an order of this type."""
        if self.side != "need":
            raise AttributeError(f"{self.code} is not a target of proposals")
        return getattr(MatchProposal, f"{self.code}_id")

    def description(self, sub: Submission) -> str:
        """The submission's descriptive fields, one paragraph each (empty ones left out)."""
        return "\n".join(getattr(sub, f) for f in self.description_fields if getattr(sub, f, None))


IDEA = SubmissionType(
    code="idea", slug="ideas", model=Idea, side="idea", engine_kind=None,
    text_fields=("title", "summary", "description", "keywords"),
    creator_roles=(Role.INNOVATOR.value,),
    label=SUBMISSION_TYPE_NAMES["ideas"], title=SUBMISSION_TYPE_TITLES["ideas"], stage_field="stage",
    label_set_prefix="I", search_extra_fields=("organisation", "team", "event"))
NEED = SubmissionType(
    code="need", slug="needs", model=TechnologyNeed, side="need", engine_kind="business_need",
    text_fields=("title", "problem", "desired_outcome"),
    creator_roles=(Role.BUSINESS.value,),
    label=SUBMISSION_TYPE_NAMES["needs"], title=SUBMISSION_TYPE_TITLES["needs"], stage_field="required_stage",
    label_set_prefix="N", search_extra_fields=("organisation_name",),
    sorts=("relevance", "newest", "deadline", "budget"))
ORDER = SubmissionType(
    code="order", slug="orders", model=ResearchOrder, side="need", engine_kind="research_order",
    text_fields=("title", "objectives", "main_content", "expected_products"),
    creator_roles=STAFF_ROLES,
    label=SUBMISSION_TYPE_NAMES["orders"], title=SUBMISSION_TYPE_TITLES["orders"], label_set_prefix="O",
    search_extra_fields=("ordering_body", "application_place"), sorts=("relevance", "newest", "deadline"))

TYPES: tuple[SubmissionType, ...] = (IDEA, NEED, ORDER)
BY_SLUG: dict[str, SubmissionType] = {t.slug: t for t in TYPES}
BY_CODE: dict[str, SubmissionType] = {t.code: t for t in TYPES}
_BY_MODEL: dict[type, SubmissionType] = {t.model: t for t in TYPES}
TARGETS: tuple[SubmissionType, ...] = tuple(t for t in TYPES if t.side == "need")  # what ideas are matched to


def type_of(sub: Submission) -> SubmissionType:
    """The type of a submission row. Raises KeyError for anything else."""
    return _BY_MODEL[type(sub)]


def engine_id(sub: Submission) -> str:
    """The engine's id of a submission: "<code>:<id>", e.g. "need:12"."""
    return f"{type_of(sub).code}:{sub.id}"


def parse_engine_id(value: str) -> tuple[SubmissionType, int] | None:
    """("need", 12) from "need:12"; None for anything that is not an engine id."""
    code, _, number = value.partition(":")
    if code not in BY_CODE or not number.isdigit():
        return None
    return BY_CODE[code], int(number)


def to_item(sub: Submission) -> Item:
    """What the engine knows of a submission: its text and facets, nothing personal."""
    submission_type = type_of(sub)
    keywords = tuple(k.strip() for k in (getattr(sub, "keywords", None) or "").split(",") if k.strip())
    # The engine's kind: "business_need" or "research_order" for a whole type, an idea's own kind for ideas.
    engine_kind = submission_type.engine_kind or sub.kind
    return Item(id=engine_id(sub), side=submission_type.side, kind=engine_kind, lang=sub.language or "vi",
                text=clean_text(submission_type.description(sub)), title=clean_text(sub.title or ""),
                sectors=frozenset(s.code for s in sub.sectors),
                place=sub.place.code if sub.place else None,
                place_group=sub.place.former_district if sub.place else None,
                stage=getattr(sub, submission_type.stage_field) if submission_type.stage_field else None,
                trl=getattr(sub, "trl", None), deadline=sub.open_until, keywords=keywords)


def with_facets(submission_type: SubmissionType) -> tuple:
    """Loader options that bring a type's sectors, place and author along (no query per row)."""
    model = submission_type.model
    return selectinload(model.sectors), joinedload(model.place), joinedload(model.owner)


def load(engine_ids: Iterable[str]) -> dict[str, Submission]:
    """The submissions behind engine ids (any status), keyed by engine id: one query per type.
    Ids that name nothing are left out."""
    wanted: dict[SubmissionType, set[int]] = {}
    for value in engine_ids:
        parsed = parse_engine_id(value)
        if parsed:
            wanted.setdefault(parsed[0], set()).add(parsed[1])
    found: dict[str, Submission] = {}
    for submission_type, ids in wanted.items():
        model = submission_type.model
        stmt = sa.select(model).where(model.id.in_(ids)).options(*with_facets(submission_type))
        found.update((f"{submission_type.code}:{s.id}", s) for s in db.session.scalars(stmt))
    return found
