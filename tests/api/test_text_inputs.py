"""Every text field is cleaned before it is validated (forms, the API and imports share the forms):
"required" and lengths apply to what will be stored."""
import pytest

IDEA = {"kind": "startup_idea", "summary": "Cảm biến độ ẩm cho vườn chè Shan tuyết.",
        "description": "Hệ thống cảm biến đo độ ẩm đất và gửi cảnh báo cho hộ trồng chè.",
        "sectors": ["agriculture_highland"], "stage": "idea", "language": "vi", "visibility": "public"}
ZW = "\u200b\u200c\u200d\ufeff"


@pytest.mark.parametrize("field, value", [
    ("title", ZW * 3),                         # only invisible characters
    ("title", "\u200b\u200bKho"),              # three letters once the invisible ones are gone
    ("summary", "<p>&nbsp;</p>"),              # markup around nothing
    ("description", " \u200b \u200b \n\t "),   # spaces and zero-width spaces
])
def test_text_that_is_empty_once_cleaned_is_refused_and_nothing_is_saved(client, token_for, field, value):
    _, headers = token_for("innovator")
    before = client.get("/api/v1/ideas?mine=1", headers=headers).get_json()
    response = client.post("/api/v1/ideas", headers={**headers, "Accept-Language": "vi"},
                           json={**IDEA, "title": "Cảm biến độ ẩm đất", field: value, "publish": True})
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == {field}
    assert client.get("/api/v1/ideas?mine=1", headers=headers).get_json() == before


def test_a_short_chinese_title_is_long_enough_and_line_breaks_leave_titles(client, token_for):
    _, headers = token_for("innovator")
    created = client.post("/api/v1/ideas", headers=headers,
                          json={**IDEA, "title": "智慧茶园", "language": "zh", "publish": True})
    assert created.status_code == 201, created.get_json()
    broken = client.post("/api/v1/ideas", headers=headers,
                         json={**IDEA, "title": "Cảm biến\r\nđộ ẩm\u200b đất", "publish": True})
    assert broken.status_code == 201 and broken.get_json()["title"] == "Cảm biến độ ẩm đất"


def test_the_web_form_refuses_a_title_of_zero_width_spaces(client, login_as):
    login_as("innovator")
    response = client.post("/ideas/new", data={**IDEA, "title": ZW * 3, "sectors": ["agriculture_highland"],
                                               "publish": "1"})
    assert response.status_code == 422


def test_markup_written_with_entities_reaches_neither_the_api_nor_exports(client, token_for):
    _, headers = token_for("innovator")
    created = client.post("/api/v1/ideas", headers=headers, json={
        **IDEA, "title": "Cảm biến &lt;b&gt;độ ẩm&lt;/b&gt; đất", "organisation": "&lt;img src=x onerror=alert(1)&gt;THPT",
        "summary": "Đo 5 &lt; 6 lần mỗi giờ \u202egnp.exe", "publish": True})
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert item["title"] == "Cảm biến độ ẩm đất" and item["organisation"] == "THPT"
    assert item["summary"] == "Đo 5 < 6 lần mỗi giờ gnp.exe"  # what the person sees stays; no override
    export = client.get("/ideas/export.csv").get_data(as_text=True)
    assert "Cảm biến độ ẩm đất" in export and "<img" not in export and "<b>" not in export
    # saving it again unchanged changes nothing (the form and the service clean alike)
    again = client.patch(f"/api/v1/ideas/{item['id']}", headers=headers, json={"keywords": "chè"})
    assert {k: again.get_json()[k] for k in ("title", "organisation", "summary")} == \
        {k: item[k] for k in ("title", "organisation", "summary")}
