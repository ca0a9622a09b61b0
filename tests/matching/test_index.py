import numpy as np

from matching.index import VectorIndex


def _unit(rng, n, d=16):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_matches_brute_force_after_add_and_remove():
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 300)
    ids = [f"x{i}" for i in range(300)]
    index = VectorIndex(16, capacity=4)
    index.add(ids, vecs)
    index.remove(["x5", "x17", "missing"])
    index.add(["x3"], vecs[4:5])  # upsert
    assert len(index) == 298
    q = _unit(rng, 2)
    scores, got = index.search(q, top_k=7)
    keep = {i: v for i, v in zip(ids, vecs) if i not in ("x5", "x17")}
    keep["x3"] = vecs[4]
    for row in range(2):
        brute = sorted(keep, key=lambda i: -float(keep[i] @ q[row]))[:7]
        assert list(got[row]) == brute
        assert np.all(np.diff(scores[row]) <= 1e-7)


def test_mask_excludes_rows_and_limits_k():
    rng = np.random.default_rng(1)
    index = VectorIndex(16)
    index.add(["a", "b", "c"], _unit(rng, 3))
    mask = np.array([i != "b" for i in index.ids])
    scores, got = index.search(index.vectors[1], top_k=10, mask=mask)
    assert set(got[0]) == {"a", "c"} and scores.shape == (1, 2)
