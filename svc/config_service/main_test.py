from fastapi.testclient import TestClient

from conftest import make_settings
from config_service.body_limits import BodyLimitMiddleware
from config_service.bus import MessageBus
from config_service.main import create_app
from config_service.request_log import RequestLogMiddleware
from config_service.security import BearerTokenMiddleware


def middleware_classes(app) -> list[type]:
    return [middleware.cls for middleware in app.user_middleware]


def test_a_request_meets_the_log_then_tokens_then_body_limits(database_url):
    app = create_app(make_settings(database_url, api_write_tokens=frozenset({"w"})))
    assert middleware_classes(app) == [
        RequestLogMiddleware,
        BearerTokenMiddleware,
        BodyLimitMiddleware,
    ]


def test_without_tokens_there_is_no_token_check(database_url):
    app = create_app(make_settings(database_url))
    assert BearerTokenMiddleware not in middleware_classes(app)


def test_the_lifespan_opens_the_database_and_bus_and_closes_them(database_url):
    app = create_app(make_settings(database_url))
    with TestClient(app):
        assert isinstance(app.state.bus, MessageBus)
        database = app.state.database
    assert database._pool.closed


def test_the_api_lives_under_api_v1_and_health_outside(client):
    paths = {route.path for route in client.app.routes}
    assert {
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/configurations",
        "/api/v1/configurations/{id}",
        "/health/live",
        "/health/ready",
    } <= paths
