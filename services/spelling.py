"""The words anyone can find, counted once per process, for correcting misspelled searches.

A search that may be misspelled (:func:`services.search.find`) is corrected against a
:class:`matching.spelling.Vocabulary` of the texts that *any visitor* may search: published
submissions an anonymous visitor may list, each through the words he may search (a confidential
need's ``search_public`` only: its title and place), so that a correction never reveals a hidden
word. Counting 100k texts takes seconds, so it never happens on a request: a search reads the
vocabulary built last (:meth:`SearchVocabulary.current`, None until the first is built: the search
then works uncorrected) and asks for a check in the background, at most every
:data:`CHECK_EVERY_SECONDS` (and, after a long count, not before ten times its time has passed:
:data:`COUNTING_SHARE`); the check compares a cheap key (each table's row count and newest
change, on indexed columns) and rebuilds when it differs, or when the vocabulary is older than
:data:`REBUILD_EVERY_SECONDS` (writes that leave ``updated_at`` alone: a place renamed, a
restore).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Flask, current_app

from extensions import db
from matching.spelling import Vocabulary
from models.people import Visitor
from services import submissions
from services.submission_types import NEED, TYPES
from services.submissions import BrowseFilters

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 10.0       # a process looks for changed submissions at most this often,
COUNTING_SHARE = 0.1             # and counts again only after ten times the last count's time
                                 # (16 s at 100k ideas: a count at most every 160 s, a tenth of a core)
REBUILD_EVERY_SECONDS = 3600.0   # and counts again at least this often
BATCH = 2000                     # rows read at a time while counting


def searchable_documents() -> Iterator[str]:
    """The folded words of every submission an anonymous visitor may list, as he may search them:
    ``search_full``, but only ``search_public`` for a confidential need."""
    visitor = Visitor()
    for submission_type in TYPES:
        model = submission_type.model
        hidden = model.confidential if submission_type is NEED else sa.false()
        stmt = (sa.select(model.search_public, model.search_full, hidden)
                .where(*submissions.browse_conditions(submission_type, visitor, BrowseFilters()))
                .execution_options(yield_per=BATCH))
        for public, full, confidential in db.session.execute(stmt):
            yield (public if confidential else full) or ""


def _key() -> tuple:
    """Changes whenever a submission is added, changed or deleted (each table's row count and
    newest ``updated_at``, both answered from indexes)."""
    return tuple(tuple(db.session.execute(sa.select(sa.func.count(t.model.id), sa.func.max(t.model.updated_at))).one())
                 for t in TYPES)


class SearchVocabulary:
    """One process's vocabulary of searchable words (see the module's docstring)."""

    def __init__(self):
        self._vocabulary: Vocabulary | None = None
        self._key: tuple | None = None
        self._built_at = 0.0
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self.build_seconds: float | None = None  # how long the last count took

    @property
    def current(self) -> Vocabulary | None:
        """The vocabulary counted last (None before the first count ends)."""
        return self._vocabulary

    def refresh(self) -> bool:
        """Count the searchable texts again, in this thread, if submissions changed since the last
        count (or it is older than :data:`REBUILD_EVERY_SECONDS`). Returns True if it counted."""
        key = _key()  # read before the texts: a change in between is counted again next time, never missed
        if key == self._key and time.monotonic() - self._built_at < REBUILD_EVERY_SECONDS:
            return False
        started = time.perf_counter()
        vocabulary = Vocabulary().fit(searchable_documents())
        self.build_seconds = time.perf_counter() - started
        self._vocabulary, self._key, self._built_at = vocabulary, key, time.monotonic()
        log.info("search vocabulary: %d texts, %d words, %d pairs counted in %.1f s", vocabulary.n_documents_,
                 len(vocabulary.words_), len(vocabulary.pair_keys_), self.build_seconds)
        return True

    def refresh_in_background(self, app: Flask) -> None:
        """:meth:`refresh` in a thread, one at a time, at most every :data:`CHECK_EVERY_SECONDS`
        and not before the last count's time over :data:`COUNTING_SHARE` has passed since it
        ended, so that a search never waits for it and counting takes a small share of the
        process's time however often submissions change."""
        with self._lock:
            now = time.monotonic()
            rest = (self.build_seconds or 0.0) / COUNTING_SHARE
            if (now - self._checked_at < CHECK_EVERY_SECONDS or now - self._built_at < rest
                    or (self._worker and self._worker.is_alive())):
                return
            self._checked_at = now
            self._worker = threading.Thread(target=self._refresh_in, args=(app,), name="search-vocabulary",
                                            daemon=True)
            self._worker.start()

    def _refresh_in(self, app: Flask) -> None:
        with app.app_context():
            try:
                self.refresh()
            except Exception:  # a search works uncorrected; the next check tries again
                log.exception("The search vocabulary could not be counted")


def search_vocabulary(app: Flask | None = None) -> SearchVocabulary:
    """The process's vocabulary for this app (one per app object; tests make several apps)."""
    app = app or current_app._get_current_object()
    vocabulary = app.extensions.get("search_vocabulary")
    if vocabulary is None:
        vocabulary = app.extensions.setdefault("search_vocabulary", SearchVocabulary())
    return vocabulary
