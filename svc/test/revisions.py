"""Revisions in tests: commit each step on its own connection, as requests do, and read back
what PostgreSQL recorded."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
from config_service.configurations.commands import (
    CreateConfiguration,
    UpdateConfiguration,
    create_configuration,
    update_configuration,
)
from config_service.configurations.queries import find_configuration
from config_service.access.scope import EVERYTHING
from config_service.access.tokens import Caller
from config_service.messages import NO_DELIVERY, Delivery
from config_service.store.retention import record_revisions_keep

from test.postgres import rows
from test.random_refs import random_name


def by(request_id: str, changed_by: str | None = None) -> Delivery:
    """What the API sends beside a write: who makes it."""
    if changed_by is None:
        return Delivery(request_id=request_id)  # no tokens: the anonymous caller, no name
    return Delivery(caller=Caller(changed_by, "write", EVERYTHING), request_id=request_id)


def committed(database_url: str, work):
    """Run `work(cursor)` in a transaction of its own connection and commit it."""
    connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as cursor:
            result = work(cursor)
        connection.commit()
        return result
    finally:
        connection.close()


def revisions(database_url: str, configuration_id: str) -> list[dict]:
    """The configuration's revisions as stored, oldest first."""
    return rows(
        database_url,
        "SELECT revision, body, changed_by, request_id, changed_at"
        " FROM configuration_revisions WHERE configuration_id = %s ORDER BY revision",
        (configuration_id,),
    )


def current(database_url: str, configuration_id: str):
    """The configuration's representation as GET reads it from PostgreSQL."""
    return committed(database_url, lambda cursor: find_configuration(cursor, configuration_id))


def create(database_url, application_id, config=None, author=NO_DELIVERY, name=None):
    """CreateConfiguration's handler, committed; returns its Written."""
    command = CreateConfiguration(
        application_id=application_id,
        name=name or random_name("cfg"),
        comments="",
        config={"v": 0} if config is None else config,
    )
    return committed(database_url, lambda cursor: create_configuration(cursor, command, author))


def put(database_url, configuration_id, config, author=NO_DELIVERY, **fields):
    """UpdateConfiguration's handler (name "cfg" unless given), committed; returns its Written."""
    command = UpdateConfiguration(
        id=configuration_id,
        name=fields.pop("name", "cfg"),
        comments=fields.pop("comments", ""),
        config=config,
        **fields,
    )
    return committed(database_url, lambda cursor: update_configuration(cursor, command, author))


@contextmanager
def keeping(database_url: str, keep: int) -> Iterator[None]:
    """REVISIONS_KEEP = `keep` in the database for the block, as the service records it when
    it migrates; the number before is put back after."""
    before = record_revisions_keep(database_url, keep)
    try:
        yield
    finally:
        if before is not None:
            record_revisions_keep(database_url, before)
