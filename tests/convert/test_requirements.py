"""requirements.txt: parse, name, freeze, and the hub whitelist as the authority."""

from __future__ import annotations

import pytest

from crunch_cli.api import HubClient
from crunch_cli.convert import requirements_from_script
from crunch_cli.errors import ConversionError, RequirementsError
from crunch_cli.requirements import (
    Requirement,
    Whitelist,
    build_requirements,
    freeze,
    module_to_distribution,
    parse_requirements_file,
    resolve,
)


def test_a_requirements_file_is_read_without_comments_and_blank_lines():
    text = "# header\n\npandas==2.2  # pinned\nTQDM[Notebook, cli] >= 4, <5\nnumpy\n"

    assert parse_requirements_file(text) == [
        Requirement("pandas", specifier="==2.2"),
        Requirement("TQDM", extras=("cli", "notebook"), specifier="<5,>=4"),
        Requirement("numpy"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-r other.txt", "requirements.txt line 2: pip options like `-r` are not allowed"),
        (
            "mylib @ https://example.com/mylib.whl",
            "requirements.txt line 2: `mylib @ https://example.com/mylib.whl`: "
            "URLs are not allowed in requirements",
        ),
        (
            "mylib; os_name == 'nt'",
            "requirements.txt line 2: `mylib; os_name == 'nt'`: environment markers are not "
            "allowed in requirements",
        ),
    ],
)
def test_a_requirements_file_refuses_what_the_platform_cannot_install(line, message):
    with pytest.raises(RequirementsError) as caught:
        parse_requirements_file(f"pandas\n{line}\n")

    assert caught.value.message == message


def test_an_unparsable_requirement_line_is_named_with_its_number():
    with pytest.raises(RequirementsError, match=r"^requirements.txt line 1: cannot parse"):
        parse_requirements_file("pandas == what\n")


def test_modules_map_to_the_installed_distribution_first():
    assert module_to_distribution("yaml") == "PyYAML"  # from this environment's metadata
    assert module_to_distribution("typer") == "typer"


def test_modules_not_installed_map_through_the_alias_table_then_to_themselves():
    assert module_to_distribution("sklearn", installed={}) == "scikit-learn"
    assert module_to_distribution("PIL", installed={}) == "pillow"
    assert module_to_distribution("lightgbm", installed={}) == "lightgbm"


def test_a_module_shipped_by_several_distributions_is_not_guessed():
    installed = {"google": ["protobuf", "google-auth"], "attr": ["attrs", "other"]}

    assert module_to_distribution("google", installed=installed) == "google"
    assert module_to_distribution("attr", installed=installed) == "attrs"


def test_freeze_pins_unpinned_third_party_requirements_to_installed_versions():
    requirements = [
        Requirement("pandas"),
        Requirement("numpy", specifier=">=1"),
        Requirement("not-installed"),
        Requirement("os", module="os", standard=True),
    ]
    versions = {"pandas": "2.2.0", "numpy": "2.0.0"}

    assert freeze(requirements, version_of=versions.get) == [
        Requirement("pandas", specifier="==2.2.0"),
        Requirement("numpy", specifier=">=1"),
        Requirement("not-installed"),
        Requirement("os", module="os", standard=True),
    ]


def test_freeze_reads_versions_from_installed_metadata():
    from importlib.metadata import version

    (frozen,) = freeze([Requirement("typer")])

    assert frozen.specifier == f"=={version('typer')}"


def test_the_original_requirements_are_kept_only_when_freezing_changed_something():
    pinned = build_requirements(
        [Requirement("numpy", specifier="==2.0")], header="h", version_of=lambda _: "9"
    )
    unpinned = build_requirements([Requirement("numpy")], header="h", version_of=lambda _: "9")

    assert (pinned.text, pinned.original) == ("# h\n\nnumpy==2.0\n", None)
    assert (unpinned.text, unpinned.original) == (
        "# frozen from local site-packages\n\nnumpy==9\n",
        "# h\n\nnumpy\n",
    )


def test_a_plain_script_requires_its_top_level_imports_with_their_comments():
    script = (
        "import os\n"
        "import pandas as pd  # == 2.2\n"
        "from sklearn import linear_model\n"
        "import internal  # @ignore\n"
        "from . import sibling\n"
        "\n"
        "def train():\n"
        "    import lightgbm\n"
    )

    requirements = requirements_from_script(script)

    assert [(r.module, r.name, r.specifier) for r in requirements] == [
        ("os", "os", ""),
        ("pandas", "pandas", "==2.2"),
        ("sklearn", "sklearn", ""),
    ]
    assert [r.line() for r in resolve(requirements, installed={})] == [
        "os",
        "pandas==2.2",
        "scikit-learn",
    ]


def test_a_script_that_does_not_parse_cannot_give_requirements():
    with pytest.raises(ConversionError, match=r"^cannot parse main.py: "):
        requirements_from_script("def broken(:\n")


def test_a_script_with_inconsistent_versions_names_both_lines():
    with pytest.raises(RequirementsError) as caught:
        requirements_from_script("import numpy  # == 1\nimport numpy  # == 2\n")

    assert caught.value.message == (
        "inconsistent versions for numpy: `numpy==1` and `numpy==2` "
        "(main.py, line 1 and main.py, line 2)"
    )


def test_the_hub_whitelist_names_libraries_by_import_name(hub):
    whitelist = Whitelist(HubClient(hub.url))

    assert whitelist.by_module("sklearn")["name"] == "scikit-learn"
    assert whitelist.by_module("numpy")["name"] == "numpy"
    assert whitelist.by_module("json")["standard"] is True
    assert whitelist.by_module("not_a_library_anywhere") is None
    assert whitelist.by_name("Scikit-Learn")["name"] == "scikit-learn"


def test_the_hub_whitelist_decides_names_and_standard_modules(hub):
    whitelist = Whitelist(HubClient(hub.url))
    imported = [
        Requirement("yaml", module="yaml", explicit=False),
        Requirement("json", module="json", explicit=False, specifier="==1"),
        Requirement("my-own", module="mine", explicit=True),
    ]

    assert [(r.name, r.standard, r.specifier) for r in resolve(imported, whitelist=whitelist)] == [
        ("pyyaml", False, ""),
        ("json", True, ""),
        ("my-own", False, ""),
    ]
