"""In a real headless Chromium: open the competition page, copy the setup command, run it,
push, and see the run appear on the project page with its score; asking the page again for
that project (now an existing one) gives no command, only who can give one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import crunch_cli

CHROMIUM = Path("/usr/bin/chromium")
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def browser(tmp_path):
    with playwright.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        yield context
        context.close()


def crunch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crunch_cli", *args],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def paste(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a copied command line as a terminal would: in a shell, `crunch` on the PATH."""
    env = _environment()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("CRUNCH_")}


def test_a_newcomer_goes_from_the_page_to_a_scored_run(hub, browser, tmp_path):
    page = browser.new_page()
    page.goto(f"{hub.url}/")
    page.get_by_role("link", name="demo-timeseries").click()
    page.get_by_label("user").fill("alice")
    page.get_by_label("project").fill("alpha")
    page.get_by_role("button", name="Get my setup command").click()
    command = page.locator("#setup-command").inner_text()
    page.screenshot(path=str(tmp_path / "competition.png"), full_page=True)

    assert command.startswith("echo ") and command.endswith(" --token -")
    setup = paste(command, tmp_path)
    assert setup.returncode == 0, setup.stderr
    workspace = tmp_path / "demo-timeseries-alpha"
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    pushed = crunch("push", "-m", "from the browser", "--wait", cwd=workspace)
    assert pushed.returncode == 0, pushed.stderr

    page.goto(f"{hub.url}/competitions/demo-timeseries")
    leaderboard = page.locator("#leaderboard")
    assert "alice" in leaderboard.inner_text()
    leaderboard.get_by_role("link", name="alpha").click()
    page.screenshot(path=str(tmp_path / "project.png"), full_page=True)
    score = page.locator("#runs td.score").first.inner_text()
    assert re.fullmatch(r"0\.\d{4}", score)
    submissions = page.locator("#submissions")
    assert "from the browser" in submissions.inner_text()
    submissions.get_by_text("3 files").click()
    assert submissions.get_by_text("requirements.txt").is_visible()
    page.get_by_role("link", name="1", exact=True).first.click()
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    assert "network: blocked" in page.locator("#logs").inner_text()

    page.goto(f"{hub.url}/competitions/demo-timeseries")
    page.get_by_label("user").fill("alice")
    page.get_by_label("project").fill("alpha")
    page.get_by_role("button", name="Get my setup command").click()
    page.screenshot(path=str(tmp_path / "existing.png"), full_page=True)
    assert page.locator("#setup-command").count() == 0
    explanation = page.locator("#project-exists").inner_text()
    assert "already exists" in explanation
    assert "crunch hub token demo-timeseries alice alpha" in explanation


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_pages_fit_a_phone_and_show_their_charts(hub, browser, tmp_path):
    page = browser.new_page()
    page.goto(f"{hub.url}/competitions/demo-timeseries")
    page.get_by_label("user").fill("alice")
    page.get_by_label("project").fill("alpha")
    page.get_by_role("button", name="Get my setup command").click()
    assert paste(page.locator("#setup-command").inner_text(), tmp_path).returncode == 0
    workspace = tmp_path / "demo-timeseries-alpha"
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    assert crunch("push", "--wait", cwd=workspace).returncode == 0

    project = f"{hub.url}/competitions/demo-timeseries/projects/alice/alpha"
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for name, url in (
            ("home", f"{hub.url}/"),
            ("competition", f"{hub.url}/competitions/demo-timeseries"),
            ("project", project),
            ("run", f"{project}/runs/1"),
        ):
            page.goto(url)
            page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the {name} page is {overflow}px wider than a {width}"
            if name != "home":
                chart = page.locator("svg.chart").first
                assert chart.is_visible(), f"no chart on the {name} page"
                box = chart.bounding_box()
                assert box is not None and box["width"] <= size["width"]
    page.goto(f"{hub.url}/competitions/demo-timeseries")
    assert "higher is better" in page.locator("#direction").inner_text()
