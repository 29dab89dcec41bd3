"""How the hub executes a run, split where a run can leave the hub's machine.

    job.py           what a run needs, as plain JSON-able data (`Job`): every file as a
                     relative path, a size, a sha256 and where to get it
    build.py         the hub reads a claimed run from its database into a `Job`
    files.py         where a job's bytes come from: the hub's own store (`HubFiles`) or
                     signed URLs fetched into a verified cache (`FetchedFiles`)
    perform.py       run a `Job` in a folder and return its outcome: the same code on the
                     hub (the local pool) and on a Ray worker
    ray_worker.py    the Ray side: one detached actor per run attempt
    ray_executor.py  the hub side of `--executor ray`: submits, follows, finds again

The queue, the claims, the logs' storage and the recording of outcomes stay in
`crunch_cli.hub.executor`, which drives either backend.
"""
