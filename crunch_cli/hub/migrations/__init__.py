"""The hub's schema migrations (alembic), run by `crunch_cli.hub.db`.

There is no alembic.ini: `crunch_cli.hub.db.alembic_config` points alembic here and hands
`env.py` an open connection. To add a revision after changing `crunch_cli/hub/models.py`,
write `versions/vNNNN_<what>.py` with `down_revision` set to the last one (alembic's
`command.revision(alembic_config(...), message, autogenerate=True)` drafts it from the
difference); `tests/hub/test_database_migrations.py` checks that the head revision builds
exactly the models' schema, on SQLite and PostgreSQL.
"""
