"""Queue many small runs at once on a hub with a worker pool; compare with one run alone.

    .venv/bin/python benchmarks/runs_bench.py [--runs 20] [--workers 2] [--singles 3]

Starts `crunch hub serve --demo --workers N` in a temp folder, pushes one time-series
submission with `crunch push`, times `--singles` runs one after another (the time a single
run takes from POST to COMPLETED), then queues `--runs` runs in one burst and times the
burst until the last one completes. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _hub import COMPETITION, MAIN, Project, crunch, running_hub, set_up_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--singles", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="runs-bench-") as temporary:
        root, workspace = Path(temporary) / "hub", Path(temporary) / "workspace"
        with running_hub(root, "--demo", "--workers", str(options.workers)) as url:
            token = set_up_workspace(root, url, COMPETITION, workspace)
            (workspace / "main.py").write_text(MAIN)
            crunch("push", "-m", "benchmark", cwd=workspace)
            project = Project(url, token)
            submission_id = project.last_submission_id()

            singles = []
            for _ in range(options.singles):
                started = time.perf_counter()
                project.wait([project.create_run(submission_id)])
                singles.append(time.perf_counter() - started)
            single = statistics.median(singles)

            started = time.perf_counter()
            run_ids = [project.create_run(submission_id) for _ in range(options.runs)]
            runs = project.wait(run_ids)
            burst = time.perf_counter() - started

    durations = [run["duration"] for run in runs]
    print(f"hub: --workers {options.workers}, {options.runs} runs of one time-series submission")
    print(f"single run, POST to COMPLETED (median of {options.singles}): {single:.2f} s")
    print(f"{options.runs} runs queued at once, until the last completed: {burst:.2f} s")
    print(f"{options.runs} x single run: {options.runs * single:.2f} s")
    print(f"speed-up over running them one by one: {options.runs * single / burst:.2f}x")
    print(
        f"each run's own duration in the burst: median {statistics.median(durations):.2f} s, "
        f"max {max(durations):.2f} s"
    )


if __name__ == "__main__":
    main()
