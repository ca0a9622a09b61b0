"""Every reason a service gives for refusing has a sentence in the one message table, in the reader's language."""
import ast
from pathlib import Path

from services.imports import ImportFileError
from services.proposals import ProposalError
from services.rounds import RoundError
from web.messages import MESSAGES, message_for

SERVICES = Path(__file__).resolve().parents[2] / "services"
OPERATOR_ONLY = {"BackupError"}  # read at the command line, in English: its str() is the sentence


def raised_codes() -> set[str]:
    """The codes written literally in `raise SomeError("code", ...)` for every ServiceError subclass."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in SERVICES.glob("*.py")]
    classes = {node.name for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
               and any(isinstance(b, ast.Name) and b.id == "ServiceError" for b in node.bases)} - OPERATOR_ONLY
    return {node.exc.args[0].value for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name) and node.exc.func.id in classes
            and node.exc.args and isinstance(node.exc.args[0], ast.Constant)}


def test_every_code_a_service_raises_has_a_message():
    codes = raised_codes()
    assert {"email_taken", "exists", "not_draft", "reversed", "encoding", "has_errors"} <= codes  # the scan works
    assert sorted(codes - MESSAGES.keys()) == []


def test_messages_are_filled_with_the_errors_params_in_the_readers_language(app):
    class Need:
        title = "Lò sấy quế"

    with app.test_request_context("/api/v1/me", headers={"Accept-Language": "en"}):  # the API reads the header
        assert message_for(RoundError("minimum_unreachable", targets=[Need(), Need()])).startswith(
            "These needs or orders cannot get the minimum number of ideas: Lò sấy quế; Lò sấy quế.")
        assert message_for(ImportFileError("too_many_rows", n=10_000)) == \
            "The file has more than 10000 rows. Split it into smaller files."
    with app.test_request_context():
        assert message_for(ImportFileError("columns", missing=["Tiêu đề"], unknown=["#3"])) == \
            "Thiếu cột: Tiêu đề. Cột không xác định: #3. Vui lòng dùng tiêu đề cột như trong tệp mẫu."
        assert message_for("exists") == message_for(ProposalError("exists"))
