"""Submissions: what a push creates, every limit the competition enforces, and the clone
that restores a submission's files in a new workspace."""

from __future__ import annotations

import hashlib

import pytest
import requests

pytestmark = pytest.mark.both_databases

MAIN = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"
CODE = {"main.py": MAIN, "requirements.txt": b"pandas\nscikit-learn==1.5\n"}
MODEL = {"model.joblib": b"\x00" * 4096, "nested/weights.bin": b"\x01" * 100}


def test_a_submission_records_its_files_and_is_listed(caller):
    response = caller.submit(CODE, MODEL, message="first try")

    assert response.status_code == 200, response.text
    created = response.json()
    assert created["number"] == 1
    assert created["message"] == "first try"
    assert created["totalSize"] == sum(map(len, CODE.values())) + sum(map(len, MODEL.values()))
    base = caller.project_path(3) + "/submissions"
    assert caller.call("GET", base).json() == [created]
    assert caller.call("GET", f"{base}/@last").json() == created
    files = caller.call("GET", f"{base}/1/files").json()
    assert {(item["name"], item["size"], item["kind"]) for item in files} == {
        ("main.py", len(MAIN), "CODE"),
        ("requirements.txt", len(CODE["requirements.txt"]), "CODE"),
        ("resources/model.joblib", 4096, "MODEL"),
        ("resources/nested/weights.bin", 100, "MODEL"),
    }


def test_submission_numbers_count_up_per_project(caller):
    numbers = [caller.submit({"main.py": MAIN}).json()["number"] for _ in range(3)]

    assert numbers == [1, 2, 3]


def test_clone_gives_signed_links_to_the_exact_files(caller):
    caller.submit(CODE, MODEL)
    clone = caller.project_path(4) + "/clone"

    with_model = caller.call("GET", clone, params={"includeModel": "true"}).json()
    code_only = caller.call("GET", clone, params={"includeModel": "false"}).json()

    assert set(code_only) == {"main.py", "requirements.txt"}
    assert set(with_model) == set(code_only) | {
        "resources/model.joblib",
        "resources/nested/weights.bin",
    }
    expected = {**CODE, **{f"resources/{path}": data for path, data in MODEL.items()}}
    for path, url in with_model.items():
        assert (
            hashlib.sha256(requests.get(url).content).digest()
            == hashlib.sha256(expected[path]).digest()
        )


def test_clone_of_an_older_submission_by_number(caller):
    caller.submit({"main.py": b"# one\n"})
    caller.submit({"main.py": b"# two\n"})

    links = caller.call(
        "GET", caller.project_path(4) + "/clone", params={"submissionNumber": 1}
    ).json()

    assert requests.get(links["main.py"]).content == b"# one\n"


def test_deleting_the_uploads_keeps_the_submitted_files(caller):
    upload_id = caller.upload("main.py", MAIN)
    caller.call(
        "POST",
        caller.project_path(4) + "/submissions",
        json={"codeFiles": {"main.py": upload_id}, "modelFiles": {}},
    )
    caller.call("DELETE", f"/v1/uploads/{upload_id}")

    links = caller.call("GET", caller.project_path(4) + "/clone").json()

    assert requests.get(links["main.py"]).content == MAIN


def test_clone_before_any_submission_says_never_submitted(caller):
    response = caller.call("GET", caller.project_path(4) + "/clone")

    assert response.status_code == 404
    assert response.json()["code"] == "NEVER_SUBMITTED"


def test_an_unknown_submission_number_is_named(caller):
    caller.submit({"main.py": MAIN})

    response = caller.call("GET", caller.project_path(3) + "/submissions/7")

    assert response.status_code == 404
    assert response.json()["code"] == "SUBMISSION_NOT_FOUND"
    assert response.json()["submissionNumber"] == "7"


def test_a_submission_without_its_main_file_is_refused(caller):
    response = caller.submit({"model.py": MAIN})

    assert response.status_code == 400
    assert response.json() == {
        "code": "MISSING_MAIN_FILE",
        "message": "the submission has no main.py among its code files",
        "mainFilePath": "main.py",
    }


def test_code_too_big_for_the_competition_is_refused(hub, caller):
    hub.set_limits(caller.competition, max_code_size=100)

    response = caller.submit({"main.py": MAIN + b"#" * 100})

    assert response.status_code == 400
    assert response.json()["code"] == "SUBMISSION_TOO_BIG"
    assert (response.json()["size"], response.json()["maximumSize"]) == (len(MAIN) + 100, 100)


def test_a_model_too_big_for_the_competition_is_refused(hub, caller):
    hub.set_limits(caller.competition, max_model_size=1000)

    response = caller.submit({"main.py": MAIN}, MODEL)

    assert response.status_code == 400
    assert response.json()["code"] == "MODEL_TOO_BIG"
    assert (response.json()["size"], response.json()["maximumSize"]) == (4196, 1000)


def test_the_daily_submission_limit_is_enforced_and_shown_in_the_quota(hub, caller):
    hub.set_limits(caller.competition, submissions_per_day=2)
    quota = caller.project_path(3) + "/quota/submit"
    assert caller.submit({"main.py": MAIN}).status_code == 200
    assert caller.call("GET", quota).json()["submissionsPerDay"] == {
        "current": 1, "maximum": 2, "bypass": False,
    }  # fmt: skip
    assert caller.submit({"main.py": MAIN}).status_code == 200

    response = caller.submit({"main.py": MAIN})

    assert response.status_code == 429
    assert response.json()["code"] == "DAILY_SUBMISSION_LIMIT_EXCEEDED"
    assert response.json()["limit"] == 2
    assert len(caller.call("GET", caller.project_path(3) + "/submissions").json()) == 2


def test_a_library_off_the_whitelist_is_refused_by_name(caller):
    requirements = b"numpy>=1.26\nsklearn\n# a comment\nleftpad-ai==1.0  # why not\ntorch\n"

    response = caller.submit({"main.py": MAIN, "requirements.txt": requirements})

    assert response.status_code == 400
    assert response.json()["code"] == "FORBIDDEN_LIBRARY"
    assert response.json()["requirements"] == [{"name": "leftpad-ai", "language": "PYTHON"}]
    assert caller.call("GET", caller.project_path(3) + "/submissions").json() == []


@pytest.mark.parametrize(
    ("line", "number"),
    [(b"numpy\npandas >= \n", 2), (b"-e git+https://example.com/x.git\n", 1)],
)
def test_an_unparsable_requirement_is_refused_with_its_line(caller, line, number):
    response = caller.submit({"main.py": MAIN, "requirements.txt": line})

    assert response.status_code == 400
    assert response.json()["code"] == "REQUIREMENT_PARSE"
    assert response.json()["lineNumber"] == number


def test_a_code_file_inside_the_model_directory_is_refused(caller):
    response = caller.submit({"main.py": MAIN, "resources/helper.py": b""})

    assert response.status_code == 400
    assert response.json()["code"] == "CONFLICTING_MODEL_DIRECTORY"
    assert response.json()["conflictingFilePath"] == "resources/helper.py"


def test_a_path_leaving_the_workspace_is_refused(caller):
    response = caller.submit({"main.py": MAIN, "../outside.py": b""})

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"


def test_an_unfinished_upload_cannot_be_submitted(caller):
    upload = caller.start_upload("main.py", len(MAIN))

    response = caller.call(
        "POST",
        caller.project_path(4) + "/submissions",
        json={"codeFiles": {"main.py": upload["id"]}},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPLOAD_NOT_COMPLETED"
    assert response.json()["status"] == "PENDING"


def test_a_message_over_a_thousand_characters_is_refused(caller):
    response = caller.submit({"main.py": MAIN}, message="x" * 1001)

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"


def test_an_organizer_extends_the_whitelist_with_a_file_in_the_hub_root(hub, caller):
    requirements = {"main.py": MAIN, "requirements.txt": b"leftpad-ai==1.0\n"}
    assert caller.submit(requirements).json()["code"] == "FORBIDDEN_LIBRARY"

    # The running hub reads the file again when it changes: no restart needed.
    (hub.root / "libraries.json").write_text('[{"name": "leftpad-ai", "aliases": ["leftpad"]}]')
    found = caller.call("GET", "/v2/libraries", params={"name": "LEFTPAD"}).json()
    response = caller.submit(requirements)

    assert [item["name"] for item in found["content"]] == ["leftpad-ai"]
    assert response.status_code == 200, response.text
