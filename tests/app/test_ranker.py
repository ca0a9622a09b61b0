"""The second-stage ranker in the app: one band per pair everywhere, learning from staff decisions,
fit-ranker, the reports page, and the live cinnamon case."""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from extensions import db
from models import Idea, TechnologyNeed, User
from services import proposals, ranker
from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, UNRELATED_IDEAS

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_ranker_is_loaded_with_its_figures(app):
    with app.app_context():
        model = ranker.current_ranker()
        assert model is not None and model.version >= 1
        info = ranker.info()
        assert info["decisions"] == 0 and info["pairs"] > 1000
        cv = info["cross_validated"]["matching-dev-v2"]["new"]
        assert cv["ndcg@10"] > info["cross_validated"]["matching-dev-v2"]["first_stage"]["ndcg@10"]


@pytest.fixture
def dryer_world(make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator", organisation="Trường Cao đẳng Lào Cai")
    ids = {"need": submit("needs", business, **DRYER_NEED), "idea": submit("ideas", innovator, **DRYER_IDEA),
           "business": business, "innovator": innovator}
    for title, text, sector in UNRELATED_IDEAS:
        submit("ideas", innovator, title=title, summary=text, description=text, sector_codes=[sector])
    return ids


def _band_on(page: str, title: str) -> str:
    card = page.split(title)[0].rsplit('data-band="', 1)[1]
    return card.split('"', 1)[0]


def test_a_pair_has_one_band_on_both_pages_in_the_api_and_for_review(client, app, dryer_world, login_as):
    login_as("staff")
    need_page = client.get(f"/needs/{dryer_world['need']}").get_data(as_text=True)
    idea_page = client.get(f"/ideas/{dryer_world['idea']}").get_data(as_text=True)
    from_need = _band_on(need_page, DRYER_IDEA["title"])
    from_idea = _band_on(idea_page, DRYER_NEED["title"])
    assert from_need == from_idea != "weak"
    with app.app_context():
        from services import matchmaking

        idea, need = db.session.get(Idea, dryer_world["idea"]), db.session.get(TechnologyNeed, dryer_world["need"])
        assert matchmaking.explain_pair(idea, need).band == from_need
        score, bands = matchmaking.pair_scores([need], [idea])
        assert bands[0, 0] == from_need and 0 < score[0, 0] <= 1


def test_staff_decisions_teach_the_ranker_but_not_every_rejection(app, dryer_world, make_user, submit):
    with app.app_context():
        staff = db.session.get(User, make_user("staff")[0])
        need = db.session.get(TechnologyNeed, dryer_world["need"])
        ideas = list(db.session.scalars(db.select(Idea).order_by(Idea.id)))
        decided = {"approved": None, "rejected:off_topic": "off_topic",
                   "rejected:already_contracted": "already_contracted", "rejected:duplicate": "duplicate"}
        for idea, (what, reason) in zip(ideas, decided.items()):
            proposal = proposals.propose(idea, need, "staff", actor=staff, notify_staff=False)
            proposals.transition(proposal, "under_review", staff)
            proposals.transition(proposal, what.split(":")[0], staff, reason=reason)
        from services.match_index import match_index

        index = match_index()
        index.refresh()
        rows = ranker.decision_source(index, ranker.current_ranker().stats)
        # approved (strong) and off topic (not relevant) teach; already contracted and duplicate do not
        assert sorted(rows.grade.tolist()) == [0, 2]
        assert rows.x.shape == (2, len(ranker.FEATURES))
        # the reports page counts them as decisions the shipped ranker has not learned from yet
        assert ranker.info()["new_decisions"] == 2


def test_a_ranker_fitted_on_another_model_is_not_used(app, dryer_world, caplog):
    import numpy as np

    from matching.debias import LanguageDebias
    from matching.rerank import CorpusStatistics
    from services.match_index import match_index
    from services.submission_types import to_item

    with app.app_context():
        shipped = ranker.current_ranker()
        other = LanguageDebias().fit(np.eye(3, dtype=np.float32), ["vi", "en", "zh"])  # a 3-dimensional model
        ranker.install(replace(shipped, stats=CorpusStatistics(other, shipped.stats.concept_idf, 1.0)))
        index = match_index()
        index.refresh()
        need = to_item(db.session.get(TechnologyNeed, dryer_world["need"]))
        matches = index.rank(need, top_k=3)
        first_stage = index._ready().rank(need, index.query_vectors([need])[0], top_k=3)
        assert matches and matches == first_stage
        assert index.rank(need, top_k=3) == matches
        assert caplog.text.count("fitted on 3-dimensional vectors") == 1  # said once, not on every ranking


def test_installing_and_deleting_a_ranker_file_is_seen_at_once(app):
    with app.app_context():
        shipped = ranker.current_ranker()
        first = ranker.install(replace(shipped, meta={"note": "first"}))
        assert ranker.current_ranker().meta == {"note": "first"}
        second = ranker.install(replace(shipped, meta={"note": "second"}))
        assert ranker.current_ranker().meta == {"note": "second"}
        second.unlink()  # going back: delete the newest file
        assert ranker.current_ranker().meta == {"note": "first"}
        first.unlink()
        assert ranker.current_ranker().version == shipped.version


def test_an_older_ranker_file_is_skipped_for_the_shipped_one(app, caplog):
    folder = Path(app.config["RANKER_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    old = json.loads((ranker.SHIPPED_DIR / next(ranker.SHIPPED_DIR.glob("ranker-*.json")).name).read_text())
    old["format"], old["version"] = "laocai-ranker/1", 99
    (folder / "ranker-0099.json").write_text(json.dumps(old))
    with app.app_context():
        assert ranker.current_ranker().version < 99
        assert ranker.current_ranker().version < 99
    assert caplog.text.count("fitted by an earlier version") == 1


def test_the_reports_page_says_what_the_bands_mean(client, login_as):
    login_as("staff")
    client.get("/lang/en")
    page = client.get("/reports/").get_data(as_text=True)
    assert "85% of the pairs shown as “Strong fit” were relevant" in page


def test_fit_ranker_installs_the_next_version_and_every_page_uses_it(runner, app, client, login_as):
    result = runner.invoke(args=["fit-ranker", "--set", str(ROOT / "seed_data/eval/laocai-dev.json"),
                                 "--no-decisions", "--force", "--without", "place"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])
    figures = report["cross_validated"]["laocai-dev"]
    assert {"new", "current", "first_stage"} <= set(figures) and 0 < figures["new"]["ndcg@10"] <= 1
    installed = sorted(Path(app.config["RANKER_DIR"]).glob("ranker-*.json"))
    assert len(installed) == 1
    with app.app_context():
        version = ranker.current_ranker().version
        assert version == int(installed[0].stem.split("-")[1]) >= 2
        assert ranker.current_ranker().meta["sources"] == ["laocai-dev"]
        assert "place" not in ranker.current_ranker().features  # an ablation leaves the feature out
        assert ranker.current_ranker().meta["features"] == list(ranker.current_ranker().features)
    login_as("staff")
    client.get("/lang/en")
    page = client.get("/reports/").get_data(as_text=True)
    assert f"Ranker version {version}, fitted" in page and "laocai-dev" in page
    assert "The department's labelled examples" in page  # a set's name, in words
    assert "“Off topic” as not relevant" in page and "teach nothing" in page  # which decisions teach


def test_fit_ranker_refuses_a_worse_ranker(runner, app, monkeypatch):
    real_fit = ranker.fit

    def worse(*args, **kwargs):
        report = real_fit(*args, **kwargs)
        report.better = False
        return report
    monkeypatch.setattr(ranker, "fit", worse)
    result = runner.invoke(args=["fit-ranker", "--set", str(ROOT / "seed_data/eval/laocai-dev.json"), "--no-decisions"])
    assert result.exit_code != 0 and "worse" in result.output
    assert not list(Path(app.config["RANKER_DIR"]).glob("ranker-*.json"))


def test_eval_matching_says_what_the_ranker_saw(runner):
    path = str(ROOT / "tests/matching/data/tiny_eval.json")
    full = json.loads(runner.invoke(args=["eval-matching", path, "--json"]).output)
    text_only = json.loads(runner.invoke(args=["eval-matching", path, "--json", "--text-only"]).output)
    first = json.loads(runner.invoke(args=["eval-matching", path, "--json", "--first-stage"]).output)
    assert "sector" in full["fields"] and "sector" not in text_only["fields"]
    assert full["ranker"].startswith("ranker-") and first["ranker"] is None
    assert first["stages"] == "first" and "second" in full["stages"]


CINNAMON_NEED = {
    "title": "Solar-assisted drying of cinnamon bark with moisture control",
    "problem": "Our 300 member households in Đông Cuông and Châu Quế dry cinnamon bark on the roadside or over "
               "wood fires. In the rainy season the bark gets mouldy and its colour is uneven, and our EU buyer "
               "rejects lots with moisture above 13.5%. We lose about 15% of the value of each harvest and burn "
               "a lot of firewood.",
    "desired_outcome": "A low-cost dryer (solar collector with a heat-pump or biomass back-up) for 500 kg of fresh "
                       "bark per batch, with temperature and humidity sensors, that brings moisture below 13% in "
                       "under four days without smoke. We can host a pilot at our collection point in 2027.",
}
DRYERS = ("Máy sấy lai năng lượng mặt trời – sinh khối cho thảo quả và quế", "Lò sấy thảo quả buồng đốt kép tiết kiệm củi")
FROST = "Frost early-warning sensor network for plum orchards in Bắc Hà"


@pytest.fixture
def cinnamon_matches(runner, client, app):
    """Issue 9's live case, on the demo data, through the API a business uses: the new need's matches."""
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        from services import tokens

        business = db.session.scalar(db.select(User).where(User.email == "doanhnghiep@demo.laocai.vn"))
        headers = {"Authorization": f"Bearer {tokens.create(business, 'test')[1]}"}
    created = client.post("/api/v1/needs", headers=headers,
                          json={**CINNAMON_NEED, "language": "en", "sectors": ["agriculture_highland"]})
    assert created.status_code == 201, created.get_json()
    return client.get(f"/api/v1/needs/{created.get_json()['id']}/matches", headers=headers).get_json()["items"]


@pytest.mark.slow
def test_the_live_cinnamon_case_finds_both_vietnamese_dryers(cinnamon_matches):
    titles = [m["title"] for m in cinnamon_matches]
    assert set(DRYERS) <= set(titles[:3]) and titles[0] in DRYERS, titles[:5]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 9, not met yet: the English frost sensor shares 'sensor, humidity, "
                   "temperature, solar' with the need and is still 'strong', second after the hybrid dryer "
                   "(docs/matching.md, section 5)")
def test_the_live_cinnamon_case_shows_the_frost_sensor_no_higher_than_possible(cinnamon_matches):
    frost = [m["band"] for m in cinnamon_matches if m["title"] == FROST]
    assert not frost or frost[0] in ("possible", "weak"), frost
