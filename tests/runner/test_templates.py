"""Every quickstarter in templates/ passes `crunch test` on its demo competition, with signal."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).parents[2] / "templates"
# What each template must reach on the demo validation set; chance is 0, 0.5 and ~1.0.
GOOD_ENOUGH = {
    "timeseries": ("spearman", lambda value: value > 0.2),
    "cross-sectional": ("accuracy", lambda value: value > 0.7),
    "stream": ("rmse", lambda value: value < 0.7),
}


@pytest.mark.parametrize("main", ["main.py", "main.ipynb"])
@pytest.mark.parametrize("format_name", list(GOOD_ENOUGH))
def test_template_passes_crunch_test_with_a_useful_score(make_workspace, crunch, format_name, main):
    workspace = make_workspace(format_name)
    shutil.copy(TEMPLATES / format_name / main, workspace.root / main)
    shutil.copy(TEMPLATES / format_name / "requirements.txt", workspace.root)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    metric, good_enough = GOOD_ENOUGH[format_name]
    score = re.search(rf"local score \({metric}\)\s+(-?[0-9.]+)", result.stdout)
    assert score is not None, result.stdout
    assert good_enough(float(score.group(1))), score.group(0)
    assert "check failed" not in result.stderr
