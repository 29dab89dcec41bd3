"""The hub's schema revisions, oldest first; alembic finds them by their `revision` ids."""
