from fastapi import FastAPI
from fastapi.testclient import TestClient

from config_service.http.head import HeadMiddleware


def app_with_head() -> FastAPI:
    app = FastAPI()

    @app.get("/thing")
    async def thing() -> dict:
        return {"a": "thing"}

    @app.post("/thing")
    async def make() -> dict:
        return {}

    app.add_middleware(HeadMiddleware)
    return app


def test_head_answers_the_gets_status_and_headers_without_its_body():
    client = TestClient(app_with_head())
    get, head = client.get("/thing"), client.head("/thing")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))


def test_head_of_a_path_without_get_is_still_405():
    app = FastAPI()

    @app.post("/only-post")
    async def only_post() -> dict:
        return {}

    app.add_middleware(HeadMiddleware)
    assert TestClient(app).head("/only-post").status_code == 405
