"""No page embeds other people's texts: a published submission without a stored vector waits,
unranked, for a bulk job, which embeds in chunks and can be cut off and run again."""
import sqlalchemy as sa

from extensions import db
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
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: asked.append((name, *args)))
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
        "embed", "reindex", "apply_import"}

