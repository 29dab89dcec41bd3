"""The hub server: the HTTP API competitors talk to, and the organizer's tools.

    settings.py    where the hub keeps its state (root folder, database URL, public URL)
    models.py      the SQL tables (SQLAlchemy 2.x)
    store.py       engine, sessions, blob store and signing key, opened from settings
    blobs.py       files on disk, addressed by an opaque key (the default store)
    blobstores/    the store interface every caller uses, and the S3 store
                   (`--blob-store s3://...`): presigned URLs, a start-up check, errors
                   that answer 503 STORAGE_UNAVAILABLE
    keys.py        the signing key: one per deployment (`--secret-file`) or per root
    signing.py     HMAC-signed, expiring URLs for blobs (like presigned object-store URLs)
    tokens.py      setup ("clone") tokens and project tokens, stored as sha256 only
    whitelist.py   the libraries a submission may require
    uploads.py     chunked, resumable uploads; a chunk is taken only while its upload is open
    janitor.py     removes expired uploads and blobs nothing uses any more (the blob
                   sweep on one machine at a time)
    submissions.py submissions, their limits and the whitelist check
    runs.py        run records and their states; logs
    executor.py    the worker pool that runs submissions, sandboxed, with the `crunch test`
                   runner
    runlogs.py     a run's log, stored bounded (head and tail) while the run goes
    environments.py  virtual environments for submissions whose pins the hub lacks
    leaderboard.py best scored run per project, ranked
    organizer.py   create competitions, mint setup tokens (used by `crunch hub ...`)
    demo.py        seeded demo data, one competition per format
    app.py         `create_app(settings)`: the FastAPI application
    routes/        one router per resource of the wire contract (HUB_API.md)
    web/           the read-only website (Jinja2 pages) with the "Submit via CLI" box
    hosts.py       the Host allow-list
    server.py      run the app with uvicorn, blocking or in a thread

Nothing on the `crunch` start-up path imports this package at module level.
"""

from crunch_cli.hub.settings import HubSettings

__all__ = ["HubSettings"]
