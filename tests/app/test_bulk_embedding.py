"""No page embeds other people's texts: a published submission without a stored vector waits,
unranked, for a bulk job, which embeds in chunks and can be cut off and run again."""
import pytest
import sqlalchemy as sa

from extensions import db
from matching.embedders import text_key
from matching.explain import explanation_parts, texts_to_embed
from models import EmbeddingVector, Idea
from services import jobs, match_index
from services.submission_types import engine_id


def _drop_vectors(app):
    """As after an import or a reindex whose embedding has not run yet."""
    with app.app_context():
        db.session.execute(sa.delete(EmbeddingVector))
        db.session.commit()
        match_index.match_index().reset()


def _ideas(make_user, submit, n):
    owner, _ = make_user("innovator")
    return [submit("ideas", owner, title=f"Máy sấy quế số {i} dùng năng lượng mặt trời",
                   summary=f"Tóm tắt {i}: sấy quế.", description=f"Mô tả {i}: buồng sấy, cảm biến độ ẩm.")
            for i in range(n)]


def test_a_refresh_embeds_nothing_and_asks_a_bulk_job_once(app, make_user, submit, monkeypatch):
    ids = _ideas(make_user, submit, 3)
    _drop_vectors(app)  # as after an import whose embedding has not run yet
    asked = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: name == "embed" and asked.append((name, *args)))
    with app.app_context():
        index = match_index.match_index()
        embedded = []
        real_embed = index.embedder.embedder.embed
        monkeypatch.setattr(index.embedder.embedder, "embed", lambda texts, role="query": embedded.append(texts)
                            or real_embed(texts, role))
        index.refresh()
        refs = [engine_id(db.session.get(Idea, i)) for i in ids]
        assert embedded == []  # nothing embedded in the refresh
        assert all(index.is_pending(r) and index._ready().get(r) is None for r in refs)
        assert asked == [("embed", refs, False)]
        index.refresh()
        assert len(asked) == 1  # asked once per process, however often pages refresh
        match_index.embed_job(refs, False)  # the bulk job runs
        index.refresh()
        assert not any(index.is_pending(r) for r in refs) and all(index._ready().get(r) for r in refs)


def test_the_embedding_job_works_in_chunks_and_can_run_again(app, make_user, submit, monkeypatch):
    ids = _ideas(make_user, submit, 5)
    _drop_vectors(app)
    monkeypatch.setattr(match_index, "EMBED_CHUNK", 2)
    chunks = []
    real = match_index.embed_submissions
    monkeypatch.setattr(match_index, "embed_submissions", lambda subs: chunks.append(len(subs)) or real(subs))
    with app.app_context():
        refs = [engine_id(db.session.get(Idea, i)) for i in ids]
        match_index.embed_job(refs, True)  # JOBS_SYNC: each next chunk runs at once
        assert chunks == [2, 2, 1]
        stored = db.session.scalar(sa.select(sa.func.count(EmbeddingVector.id)))
        match_index.embed_job(refs, True)  # run again (a retry after a crash): nothing stored twice
        assert db.session.scalar(sa.select(sa.func.count(EmbeddingVector.id))) == stored


def test_jobs_go_to_the_interactive_or_the_bulk_queue():
    assert jobs.QUEUES[0] == jobs.INTERACTIVE  # a worker looks there first
    assert {name for name, (_, queue) in jobs.TASKS.items() if queue == jobs.INTERACTIVE} == {
        "send_mail", "warm_explanations"}
    assert {name for name, (_, queue) in jobs.TASKS.items() if queue == jobs.BULK} == {
        "embed", "reindex", "apply_import", "snapshot_index", "match_alerts", "send_digests"}



def test_a_page_never_embeds_explanation_texts_it_shows_the_ranking_and_says_the_reasons_are_being_prepared(
        app, client, make_user, submit, login_as, monkeypatch):
    """After an import's first chain (documents embedded, explanation texts not yet), a matches page
    ranks the new idea without embedding its sentences or key terms, nor those of the page's own
    need: the reasons are being prepared by one interactive job per text, asked once."""
    from matching.ranking import item_text
    from models import TechnologyNeed
    from services.submission_types import to_item

    idea_id = _ideas(make_user, submit, 1)[0]
    business, _ = login_as("business")
    need_id = submit("needs", business, title="Cần máy sấy quế dùng năng lượng mặt trời",
                     problem="Quế phơi ngoài đường bị mốc khi trời mưa.", desired_outcome="Buồng sấy có cảm biến độ ẩm.")
    with app.app_context():
        idea, need = db.session.get(Idea, idea_id), db.session.get(TechnologyNeed, need_id)
        documents = [text_key(item_text(to_item(s))) for s in (idea, need)]
        from services.glossary import current_glossary
        idea_ref, need_ref, title = engine_id(idea), engine_id(need), idea.title
        idea_texts = set(texts_to_embed(to_item(idea), glossary=current_glossary()))
        # the page's own need: its title and sentences rank it (its own query: embedded if missing),
        # its key terms only explain
        need_terms = set(explanation_parts(to_item(need), glossary=current_glossary())[1])
        db.session.execute(sa.delete(EmbeddingVector).where(EmbeddingVector.text_key.not_in(documents)))
        db.session.commit()
        match_index.match_index().reset()
        embedder = match_index.match_index().embedder.embedder
    embedded, asked = [], []
    real_embed = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts, role="query": embedded.extend(texts) or real_embed(texts, role))
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: name != "snapshot_index" and asked.append((name, *args)))

    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert title in page and "reasons-pending" in page  # ranked, its reasons being prepared
    assert not (idea_texts | need_terms) & set(embedded)  # no explanation text embedded by the page
    api = client.get(f"/api/v1/needs/{need_id}/matches").get_json()["items"]
    assert [m["reasons_pending"] for m in api if m["id"] == idea_id] == [True]
    assert sorted(asked) == sorted([("warm_explanations", idea_ref), ("warm_explanations", need_ref)])  # once each

    with app.app_context():
        match_index.warm_explanations(idea_ref)  # the other text's job runs: the page's own is still missing
    assert "reasons-pending" in client.get(f"/needs/{need_id}").get_data(as_text=True)
    with app.app_context():
        match_index.warm_explanations(need_ref)
    embedded.clear()
    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert "reasons-pending" not in page and "<mark>" in page.split("matches-title")[-1]  # reasons shown
    assert not (idea_texts | need_terms) & set(embedded)  # from the stored vectors


def test_publishing_never_waits_for_the_model_its_page_says_the_matches_are_being_prepared(
        app, client, make_user, submit, login_as, monkeypatch):
    """The author's request saves and queues; a job embeds the text (1-2 s for a long one on 2
    cores), meanwhile the page says so and reloads itself; then it shows the matches."""
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED
    owner, _ = make_user("innovator")
    submit("ideas", owner, **DRYER_IDEA)
    asked = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: asked.append((name, *args)))
    business, _ = login_as("business")
    with app.app_context():
        embedder = match_index.match_index().embedder.embedder
    embedded = []
    real_embed = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda texts, role="query", **kw: embedded.extend(texts)
                        or real_embed(texts, role, **kw))
    need = submit("needs", business, **DRYER_NEED)
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert embedded == []  # neither the publish nor its page ran the model
    assert 'id="matches-pending"' in page and "matches-pending.js" in page
    with app.app_context():
        from models import TechnologyNeed
        ref = engine_id(db.session.get(TechnologyNeed, need))
    assert ("warm_explanations", ref) in asked
    with app.app_context():
        match_index.warm_explanations(ref)  # the job runs
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert 'id="matches-pending"' not in page and DRYER_IDEA["title"] in page


def test_the_job_stores_each_texts_explanation_parts_and_pages_never_segment_words(
        app, client, make_user, submit, monkeypatch):
    """Publishing's job stores each text's sentences and key terms (pyvi, jieba and CC-CEDICT run
    there, once per text version); a process that never saw the texts explains the matches from
    what is stored, segmenting nothing itself."""
    import matching.explain as ex
    from models import ExplanationParts
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED
    innovator, _ = make_user("innovator")
    business, _ = make_user("business")
    submit("ideas", innovator, **DRYER_IDEA)
    need = submit("needs", business, **DRYER_NEED)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ExplanationParts.id))) == 2
        match_index.match_index().reset()  # as a new process: nothing kept
    ex._text_parts.cache_clear()
    monkeypatch.setattr(ex, "term_candidates", lambda *a, **k: pytest.fail("a page segmented a text"))
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert DRYER_IDEA["title"] in page and "reasons-pending" not in page
    assert "<mark>" in page.split("matches-title")[-1]  # shared terms shown, from the stored parts
