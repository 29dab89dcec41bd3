"""The hub refuses files named like secrets, whatever client sent them: a second line of
defence behind `crunch push`'s own check, for older clients and hand-written scripts."""

from __future__ import annotations

import pytest

from crunch_cli.api import HubClient
from crunch_cli.errors import ApiError

MAIN = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"


def submissions(caller) -> list[dict]:
    return caller.call("GET", caller.project_path(3) + "/submissions").json()


@pytest.mark.parametrize(
    ("code", "model", "refused"),
    [
        ({".aws/credentials": b"[default]\n"}, {}, [".aws/credentials"]),
        ({"lib/.env.local": b"A=1\n", "id_ed25519": b"x"}, {}, ["lib/.env.local", "id_ed25519"]),
        ({}, {"certs/server.pem": b"x"}, ["resources/certs/server.pem"]),
    ],
)
def test_a_submission_listing_a_secret_file_is_refused_and_not_recorded(
    caller, code, model, refused
):
    response = caller.submit({"main.py": MAIN, **code}, model)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "SECRET_FILE"
    assert body["filePaths"] == refused
    assert body["message"].endswith("are not accepted: " + ", ".join(refused))
    assert submissions(caller) == []


def test_files_the_user_allowed_by_name_are_accepted(caller):
    response = caller.submit(
        {"main.py": MAIN, "keys/server.pem": b"x"},
        {"client.key": b"x"},
        allowedSecretFiles=["keys/server.pem", "resources/client.key"],
    )

    assert response.status_code == 200, response.text
    files = caller.call("GET", caller.project_path(3) + "/submissions/1/files").json()
    assert {"keys/server.pem", "resources/client.key"} <= {item["name"] for item in files}


def test_allowing_one_secret_file_does_not_allow_another(caller):
    response = caller.submit(
        {"main.py": MAIN, "keys/server.pem": b"x", "kaggle.json": b"{}"},
        allowedSecretFiles=["keys/server.pem"],
    )

    assert response.status_code == 400
    assert response.json()["filePaths"] == ["kaggle.json"]


def test_ordinary_names_close_to_secret_ones_are_accepted(caller):
    response = caller.submit(
        {"main.py": MAIN, "id_mapping.csv": b"id\n", "id_rsa.pub": b"ssh-ed25519 AAAA x\n"},
        {".env.example": b"A=\n"},
    )

    assert response.status_code == 200, response.text


def test_the_client_explains_the_refusal(caller):
    client = HubClient(caller.url, caller.token).project(
        caller.competition, caller.user_id, caller.project
    )
    body = {
        "mainFilePath": "main.py",
        "codeFiles": {
            "main.py": caller.upload("main.py", MAIN),
            ".netrc": caller.upload(".netrc", b"machine x"),
        },
    }

    with pytest.raises(ApiError) as refused:
        client.create_submission(body)

    assert refused.value.code == "SECRET_FILE"
    assert refused.value.status == 400
    assert "--allow-secret PATH" in (refused.value.hint or "")
