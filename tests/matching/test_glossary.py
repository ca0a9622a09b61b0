import io
import json
from pathlib import Path

import pytest

from matching.glossary import Glossary, GlossaryError, read_glossary_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seed():
    return Glossary.from_csv(ROOT / "seed_data" / "glossary.csv")


def test_seed_glossary_is_a_real_province_glossary(seed):
    assert len(seed) >= 200
    kinds = {seed.kind(c) for c in seed.entries}
    assert {"crop", "place", "technology", "institution"} <= kinds
    for vi, en, zh in [("quế", "cinnamon", "肉桂"), ("thảo quả", "black cardamom", "草果"),
                       ("tam thất", "notoginseng", "三七"), ("Hà Khẩu", "Hekou", "河口"),
                       ("Côn Minh", "Kunming", "昆明"), ("Vân Nam", "Yunnan", "云南"), ("Lào Cai", "Lao Cai", "老街"),
                       ("Sa Pa", "Sa Pa", "沙坝"), ("lũ quét", "flash flood", "山洪"), ("chuỗi lạnh", "cold chain", "冷链")]:
        assert seed.same_concept(vi, en) and seed.same_concept(en, zh), (vi, en, zh)


def test_every_commune_and_ward_is_a_place(seed):
    units = json.loads((ROOT / "seed_data" / "places.json").read_text(encoding="utf-8"))["units"]
    for unit in units:
        found = seed.find(unit["name"])
        assert found and seed.kind(found[-1][0]) == "place", unit["name"]


def test_acronyms_match_as_written(seed):
    assert [c for c, _ in seed.find("AI và IoT cho HTX")] == ["ai", "iot", "cooperative"]
    assert seed.find("ai cũng biết") == []  # Vietnamese "ai" (who) is not AI


def test_longest_name_wins_and_common_words_are_not_places(seed):
    assert seed.find("phục hồi rừng ở Châu Quế") == [("reforestation", "phục hồi rừng"), ("chau-que", "Châu Quế")]
    assert seed.concepts("trung tâm chế tạo máy") == frozenset()  # not the wards Trung Tâm / Chế Tạo
    assert seed.concepts("250 triệu đồng") == frozenset()          # đồng the currency is not copper


def test_bad_rows_are_refused():
    with pytest.raises(GlossaryError) as bad:
        read_glossary_csv(io.StringIO("concept,kind,vi,en,zh\nx,planet,a,b,\n"))
    assert bad.value.code == "kind" and bad.value.row == 2
