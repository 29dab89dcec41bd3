"""Cells this Python cannot parse as a whole: newer syntax (`def f[T]()` and `type X = ...`
need 3.12) or a typo. What is commented out anyway may not parse; what is kept must."""

from __future__ import annotations

import sys

import pytest

from crunch_cli.convert import convert_notebook
from crunch_cli.errors import ConversionError

NEWER = sys.version_info < (3, 12)
needs_older_python = pytest.mark.skipif(not NEWER, reason="this Python parses 3.12 syntax")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def warnings(conversion) -> list[str]:
    return [str(warning) for warning in conversion.warnings]


@needs_older_python
def test_a_type_statement_in_a_cell_does_not_cost_its_imports_and_functions(write_notebook):
    notebook = write_notebook(
        "import pandas as pd\n",
        "import numpy as np\n"
        "type Vector = list[float]\n"
        "\n"
        "def train(X_train, y_train, model_directory_path):\n"
        "    return np.mean(y_train)\n",
    )

    conversion = convert_notebook(notebook)

    assert conversion.script == (
        "import pandas as pd\n\n\n"
        "import numpy as np\n"
        "#type Vector = list[float]\n"
        "\n"
        "def train(X_train, y_train, model_directory_path):\n"
        "    return np.mean(y_train)\n"
    )
    assert [requirement.module for requirement in conversion.requirements] == ["pandas", "numpy"]
    assert warnings(conversion) == [
        f"cell 2 (id c2), line 2: cannot parse the statement with Python {PYTHON} "
        "(invalid syntax): it is commented out"
    ]


@needs_older_python
def test_a_generic_function_the_script_would_keep_stops_the_conversion_naming_it(
    write_notebook,
):
    notebook = write_notebook(
        "import os\n", "# the model\ndef train[T](X_train: T) -> T:\n    return X_train\n"
    )

    with pytest.raises(ConversionError) as caught:
        convert_notebook(notebook)

    assert caught.value.message == (
        "cell 2 (id c2), line 2: cannot parse function `train`: expected '('"
    )
    assert caught.value.hint == (
        f"kept code (imports, functions, classes) must be valid Python {PYTHON}: fix it, or "
        "pass --bad-cells comment to convert it commented out"
    )


@needs_older_python
def test_with_bad_cells_comment_a_generic_train_is_commented_out_with_a_warning_naming_it(
    write_notebook,
):
    notebook = write_notebook(
        "@decorate\ndef train[T](X_train: T) -> T:\n    return X_train\n\ndef infer():\n    pass\n"
    )

    conversion = convert_notebook(notebook, bad_cells="comment")

    assert conversion.script == (
        "#@decorate\n#def train[T](X_train: T) -> T:\n#    return X_train\n\n"
        "def infer():\n    pass\n"
    )
    assert warnings(conversion) == [
        f"cell 1 (id c1), line 2: cannot parse function `train` with Python {PYTHON} "
        "(expected '('): it is commented out, so the script lacks it"
    ]


@needs_older_python
@pytest.mark.parametrize(
    ("cell", "converted"),
    [
        (
            "# @crunch/keep:none\ndef helper[T](x: T) -> T:\n    return x\n",
            "# @crunch/keep:none\n#def helper[T](x: T) -> T:\n#    return x\n",
        ),
        (
            "if True:\n    def helper[T](x: T) -> T:\n        return x\n",
            "#if True:\n#    def helper[T](x: T) -> T:\n#        return x\n",
        ),
        (
            "for item in items:\n    type Pair = tuple[int, int]\nelse:\n    pass\n",
            "#for item in items:\n#    type Pair = tuple[int, int]\n#else:\n#    pass\n",
        ),
    ],
)
def test_newer_syntax_that_is_commented_out_anyway_does_not_fail(write_notebook, cell, converted):
    notebook = write_notebook("import os\n", cell, "def infer():\n    pass\n")

    conversion = convert_notebook(notebook)

    assert conversion.script == f"import os\n\n\n{converted}\n\ndef infer():\n    pass\n"
    assert len(conversion.warnings) == 1
    assert str(conversion.warnings[0]).endswith("): it is commented out")


def test_an_unclosed_bracket_does_not_take_the_functions_below_it(write_notebook):
    notebook = write_notebook(
        "import os\nresult = compute(\ndef train():\n    return os.sep\n\nclass Model:\n    pass\n"
    )

    conversion = convert_notebook(notebook)

    assert conversion.script == (
        "import os\n#result = compute(\ndef train():\n    return os.sep\n\nclass Model:\n    pass\n"
    )
    assert warnings(conversion) == [
        f"cell 1 (id c1), line 2: cannot parse the statement with Python {PYTHON} "
        "('(' was never closed): it is commented out"
    ]


def test_a_typo_in_a_kept_function_still_stops_the_conversion(write_notebook):
    notebook = write_notebook("x = 1\ndef train(:\n    pass\n")

    with pytest.raises(ConversionError, match=r"^cell 1 \(id c1\), line 2: cannot parse function"):
        convert_notebook(notebook)
