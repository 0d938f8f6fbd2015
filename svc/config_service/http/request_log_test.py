import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config_service.http.problems import install_problem_handlers
from config_service.http.request_log import RequestLogMiddleware, RequestRecord
from config_service.telemetry.ignored import ignored_metrics
from config_service.telemetry.logs import records_differ_by_more_than_time, skip_what_no_line_shows


@pytest.fixture
def client():
    app = FastAPI()
    install_problem_handlers(app, ignored_metrics())

    @app.get("/items/{item_id}")
    async def get_item(item_id: str):
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("unexpected")

    app.add_middleware(RequestLogMiddleware, metrics=ignored_metrics())
    return TestClient(app, raise_server_exceptions=False)


def request_lines(caplog) -> list[dict]:
    return [
        r.fields
        for r in caplog.records
        if r.name == "config_service.requests" and r.msg == "request"
    ]


def test_a_generated_request_id_is_echoed_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="config_service.requests")
    response = client.get("/items/42")

    request_id = response.headers["x-request-id"]
    assert len(request_id) == 26
    [line] = request_lines(caplog)
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/items/{item_id}", 200)
    assert line["duration_ms"] >= 0
    assert line["client"] == "testclient"


@pytest.mark.parametrize(
    ("sent", "kept"), [("abc-123", True), ("x" * 129, False), ("has space", False), ("", False)]
)
def test_only_short_printable_request_ids_are_kept(client, sent, kept):
    echoed = client.get("/items/1", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert (echoed == sent) is kept


def test_problems_name_the_request_id(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-7"})
    assert response.json()["request_id"] == "trace-7"


def test_an_unhandled_error_is_a_500_problem_logged_once_with_traceback(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/boom", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == "trace-500"
    errors = [r for r in caplog.records if r.exc_info]
    assert len(errors) == 1
    assert errors[0].fields == {"request_id": "trace-500"}
    assert request_lines(caplog)[0]["status"] == 500


FLAGS = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing", "logAsyncioTasks")


@pytest.fixture
def lean_records():
    """Logging as configure_logging leaves it: no source, thread, process nor task."""
    saved = {flag: getattr(logging, flag) for flag in FLAGS}
    skip_what_no_line_shows()
    yield
    for flag, value in saved.items():
        setattr(logging, flag, value)


@pytest.fixture
def usual_records():
    """Logging as it is by default: every record has its source and thread."""
    saved = {flag: getattr(logging, flag) for flag in FLAGS}
    logging._srcfile, logging.logThreads = logging.__file__, True
    yield
    for flag, value in saved.items():
        setattr(logging, flag, value)


class Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_a_request_record_is_the_record_logger_log_makes_but_for_its_time(lean_records, level):
    log, kept = logging.getLogger("config_service.requests"), Keep()
    fields = {"method": "GET", "status": 200}
    log.addHandler(kept)
    log.setLevel(logging.DEBUG)
    try:
        made = RequestRecord(level, fields)
        log.log(level, "request", extra={"fields": fields})
    finally:
        log.removeHandler(kept)
        log.setLevel(logging.NOTSET)
    [usual] = kept.records
    clock = {"created", "msecs", "relativeCreated", "message"}  # message: set by formatting
    assert {k: v for k, v in vars(made).items() if k not in clock} == {
        k: v for k, v in vars(usual).items() if k not in clock
    }
    assert 0 <= usual.created - made.created < 1
    assert 0 <= made.msecs < 1000 and made.msecs == int(made.msecs)
    fraction_ms = (made.created * 1000 - made.msecs) % 1000  # in [0, 1), but for rounding
    assert fraction_ms < 1.01 or fraction_ms > 999.99
    elapsed_ms = (usual.created - made.created) * 1000
    assert abs(usual.relativeCreated - made.relativeCreated - elapsed_ms) < 1


def test_request_lines_are_the_usual_records_where_records_differ_by_more(
    usual_records, client, caplog
):
    assert records_differ_by_more_than_time()
    caplog.set_level(logging.INFO, logger="config_service.requests")
    client.get("/items/1")
    [record] = [r for r in caplog.records if r.name == "config_service.requests"]
    assert type(record) is logging.LogRecord and record.funcName == "_log_request"


def test_request_lines_are_request_records_as_the_service_logs(lean_records, client, caplog):
    assert not records_differ_by_more_than_time()
    caplog.set_level(logging.INFO, logger="config_service.requests")
    client.get("/items/1")
    [record] = [r for r in caplog.records if r.name == "config_service.requests"]
    assert type(record) is RequestRecord and record.fields["path"] == "/items/{item_id}"
