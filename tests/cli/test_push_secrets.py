"""`crunch push` refuses to send what looks like a secret, against a real hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hub_state import upload_statuses

from crunch_cli.secret_names import SECRET_FILE_PATTERNS, secret_name_rule

MAIN = """\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=0.0)
"""
CORPUS = Path(__file__).resolve().parents[1] / "convert" / "corpus"
# Made up, but shaped like the real thing; built from parts so that this file is not one.
AWS_KEY_ID = "AKIA" + "Q7ZL3XK9PDW2MB4T"
GITHUB_TOKEN = "ghp_" + "x7Kq2Lm9Np4Rs8Tv1Wy3Zb6Cd0Fg5Hj2Kl7M"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH "
    + "PRIVATE KEY-----\n"
    + "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" * 3
    + "-----END OPENSSH PRIVATE KEY-----\n"
)
# One example of every deny-list entry, as a competitor would have it in a workspace.
SECRET_FILES = [
    ".env.local",
    "config/.env.production",
    "keys/server.pem",
    "tls.key",
    "client.p12",
    "client.pfx",
    "release.keystore",
    "signing.jks",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
    ".ssh/config",
    ".aws/credentials",
    ".gnupg/pubring.kbx",
    ".docker/config.json",
    "home/.kube/config",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "kaggle.json",
    "credentials.json",
    "client_secret_1234.apps.googleusercontent.com.json",
    "service-account-prod.json",
    "resources/server.pem",
]


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def pushed_paths(crunch) -> set[str]:
    result = crunch("submission", "show", "@last", "--json")
    assert result.exit_code == 0, result.output
    return {file["name"] for file in json.loads(result.stdout)["files"]}


def test_every_deny_list_entry_has_an_example_in_these_tests():
    examples = {secret_name_rule(path) for path in SECRET_FILES}

    # `.env` itself is never sent at all: push leaves it behind without a word.
    entries = {rule for rule in SECRET_FILE_PATTERNS if not rule.startswith("!")} - {".env"}
    assert examples == entries


@pytest.mark.parametrize("name", SECRET_FILES)
def test_push_refuses_a_file_named_like_a_secret_and_sends_nothing(workspace, crunch, hub, name):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", name: "placeholder\n"})

    result = crunch("push", "-m", "oops")

    assert result.exit_code == 1
    refusal = f"error: refusing to send what looks like secrets: {name} (a secret file name, like "
    assert refusal in result.stderr
    assert "--allow-secret PATH" in result.stderr
    assert upload_statuses(hub) == []


def test_push_names_file_and_line_of_keys_pasted_in_code_but_never_the_value(workspace, crunch):
    write(
        workspace,
        {
            "main.py": f'import os\n\nAWS = "{AWS_KEY_ID}"\n' + MAIN,
            "requirements.txt": "pandas\n",
            "lib/deploy.py": f"# notes\nKEY = '''{PRIVATE_KEY}'''\n",
        },
    )

    result = crunch("push", "-m", "oops")

    assert result.exit_code == 1
    assert (
        "error: refusing to send what looks like secrets: "
        "lib/deploy.py line 2 (a private key); main.py line 3 (an AWS access key id)\n"
    ) in result.stderr
    assert AWS_KEY_ID not in result.output
    assert "b3BlbnNzaC1rZXkt" not in result.output


def test_push_of_a_notebook_names_the_line_of_the_converted_main_py(workspace, crunch):
    cells = [
        {
            "cell_type": "code",
            "id": f"cell-{number}",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": source,
        }
        for number, source in enumerate(
            (
                f'TOKEN = "{GITHUB_TOKEN}"',
                "def train(X_train, model_directory_path):\n    pass",
                "def infer(X_test):\n    return X_test",
            )
        )
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write(workspace, {"main.ipynb": json.dumps(notebook), "requirements.txt": "pandas\n"})

    result = crunch("push", "--dry")

    assert result.exit_code == 1
    assert "main.py line 1 (a GitHub token, converted from main.ipynb)" in result.stderr
    assert GITHUB_TOKEN not in result.output


def test_dry_and_export_refuse_too(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", ".aws/credentials": "x"})

    dry = crunch("push", "--dry")
    export = crunch("push", "--export", "bundle.zip")

    assert dry.exit_code == 1
    assert ".aws/credentials (a secret file name, like .aws/)" in dry.stderr
    assert "sha256" not in dry.stdout  # no manifest printed
    assert export.exit_code == 1
    assert not (workspace / "bundle.zip").exists()


def test_allow_secret_sends_the_named_files_and_only_those(workspace, crunch):
    write(
        workspace,
        {
            "main.py": f'TOKEN = "{GITHUB_TOKEN}"\n' + MAIN,
            "requirements.txt": "pandas\n",
            "keys/server.pem": "placeholder\n",
            "resources/client.key": "placeholder\n",
            "kaggle.json": "{}",
        },
    )

    refused = crunch(
        "push", "-m", "partly", "--allow-secret", "main.py", "--allow-secret", "keys/server.pem"
    )
    pushed = crunch(
        "push",
        "-m",
        "all of them",
        "--allow-secret",
        "main.py",
        "--allow-secret",
        "keys/server.pem",
        "--allow-secret",
        "resources/client.key",
        "--allow-secret",
        "kaggle.json",
    )

    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "error: refusing to send what looks like secrets: "
        "kaggle.json (a secret file name, like kaggle.json); "
        "resources/client.key (a secret file name, like *.key)\n"
    )
    assert pushed.exit_code == 0, pushed.output
    assert {"main.py", "keys/server.pem", "resources/client.key", "kaggle.json"} <= pushed_paths(
        crunch
    )


def test_allow_secret_paths_are_relative_to_the_current_folder(workspace, crunch, monkeypatch):
    write(
        workspace,
        {"main.py": MAIN, "requirements.txt": "pandas\n", "keys/server.pem": "placeholder\n"},
    )
    monkeypatch.chdir(workspace / "keys")

    result = crunch("push", "-m", "from keys/", "--allow-secret", "server.pem")
    outside = crunch("push", "--dry", "--allow-secret", "../../elsewhere.pem")

    assert result.exit_code == 0, result.output
    assert "keys/server.pem" in pushed_paths(crunch)
    assert outside.exit_code == 2
    assert "is outside the workspace" in outside.stderr


def test_gitignored_secrets_do_not_stop_a_push(workspace, crunch):
    write(
        workspace,
        {
            "main.py": MAIN,
            "requirements.txt": "pandas\n",
            ".gitignore": ".aws/\n*.pem\nnotes.txt\n",
            ".aws/credentials": "[default]\n",
            "server.pem": "placeholder\n",
            "notes.txt": f"my key: {AWS_KEY_ID}\n",
            "resources/.gitignore": "*.key\n",
            "resources/client.key": "placeholder\n",
            "resources/model.bin": b"weights",
        },
    )

    result = crunch("push", "-m", "clean")

    assert result.exit_code == 0, result.output
    assert pushed_paths(crunch) == {
        ".gitignore",
        "main.py",
        "requirements.txt",
        "requirements.original.txt",
        "resources/.gitignore",
        "resources/model.bin",
    }


def test_an_ordinary_workspace_with_id_and_key_like_names_pushes(workspace, crunch):
    ordinary = {
        "id_mapping.csv": "id,moon\n1,2\n",
        "id_columns": "id\n",
        "id_rsa.pub": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq user@host\n",
        ".env.example": "HF_TOKEN=\n",
        "keys.py": "KEYS = ['id', 'moon']\n",
        "tokenizer.json": '{"model": {"vocab": {}}}',
        "credentials_check.py": "def has_credentials():\n    return False\n",
        "resources/id_map.json": "{}",
        # A token inside a model file or a large data file is not looked for.
        "resources/model.pkl": f"pickled {GITHUB_TOKEN}".encode(),
        "data_dump.txt": "x" * (1024 * 1024) + GITHUB_TOKEN,
    }
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", ".env": "A=1", **ordinary})

    result = crunch("push", "-m", "ordinary")

    assert result.exit_code == 0, result.output
    sent = pushed_paths(crunch)
    assert ".env" not in sent
    assert {name for name in ordinary if not name.startswith("resources/")} <= sent
    assert {"resources/id_map.json", "resources/model.pkl"} <= sent


def test_the_notebooks_and_scripts_of_the_conversion_corpus_push(workspace, crunch):
    shutil.copytree(CORPUS, workspace / "corpus")
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})

    result = crunch("push", "--dry")

    assert result.exit_code == 0, result.output
    corpus_files = sum(1 for path in CORPUS.rglob("*") if path.is_file())
    sent = corpus_files + len({"main.py", "requirements.txt", "requirements.original.txt"})
    assert f"\n{sent} files: code " in result.stdout
