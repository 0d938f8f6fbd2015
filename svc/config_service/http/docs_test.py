import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config_service.access.reload import TokenSource
from config_service.http.bearer import AccessMiddleware
from config_service.http.docs import install_docs
from conftest import make_settings

# Each has a character that must be escaped in HTML: a URL from settings must not end the
# attribute it is written in.
MIRROR = {
    "docs_js_url": 'http://mirror.internal/swagger-ui-bundle.js?v=5&x="',
    "docs_css_url": "http://mirror.internal/swagger-ui.css?v=5&x=<",
    "redoc_js_url": "http://mirror.internal/redoc.standalone.js?v=2&x='",
}


def unavailable_message(page: str) -> str:
    """The message shown when the viewer does not load, from its opening tag to its end."""
    start = page.index('<div id="docs-unavailable"')
    return page[start : page.index("</div>", start)]


def docs_app(settings, **fastapi_options) -> FastAPI:
    app = FastAPI(title="Config <Service>", docs_url=None, redoc_url=None, **fastapi_options)
    install_docs(app, settings)

    @app.get("/api/v1/things")
    async def things() -> list[str]:
        return []

    return app


@pytest.fixture
def mirror_client(database_url):
    return TestClient(docs_app(make_settings(database_url, **MIRROR)))


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_pages_are_html_and_not_in_the_openapi_document(mirror_client, path):
    response = mirror_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")
    assert path not in mirror_client.get("/openapi.json").json()["paths"]


def test_docs_loads_swagger_ui_from_the_configured_urls_escaped(mirror_client):
    page = mirror_client.get("/docs").text
    assert (
        '<script src="http://mirror.internal/swagger-ui-bundle.js?v=5&amp;x=&quot;"'
        ' onerror="docsUnavailable()"></script>'
    ) in page
    css_link = '<link rel="stylesheet" href="http://mirror.internal/swagger-ui.css?v=5&amp;x=&lt;">'
    assert css_link in page
    assert "SwaggerUIBundle({" in page
    assert "<title>Config &lt;Service&gt; - Swagger UI</title>" in page


def test_redoc_loads_redoc_from_the_configured_url_escaped(mirror_client):
    page = mirror_client.get("/redoc").text
    assert (
        '<script src="http://mirror.internal/redoc.standalone.js?v=2&amp;x=&#x27;"'
        ' onerror="docsUnavailable()"></script>'
    ) in page
    assert "Redoc.init(" in page
    assert "<title>Config &lt;Service&gt; - ReDoc</title>" in page


@pytest.mark.parametrize(
    "path, js_url",
    [
        ("/docs", "http://mirror.internal/swagger-ui-bundle.js?v=5&amp;x=&quot;"),
        ("/redoc", "http://mirror.internal/redoc.standalone.js?v=2&amp;x=&#x27;"),
    ],
)
def test_a_viewer_that_cannot_load_is_reported_with_a_link_to_the_document(
    mirror_client, path, js_url
):
    page = mirror_client.get(path).text
    message = unavailable_message(page)
    assert f"The documentation viewer could not be loaded from <code>{js_url}</code>." in message
    assert 'The raw OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.' in message
    # Hidden until the script fails, the viewer object is missing, or nothing has rendered.
    assert message.startswith('<div id="docs-unavailable" class="docs-message" role="alert" hidden')
    assert "function docsUnavailable()" in page
    assert "setTimeout(function () { if (!docsViewer.children.length) docsUnavailable(); }" in page


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_nothing_is_fetched_from_the_internet_when_a_mirror_is_configured(mirror_client, path):
    # FastAPI's own pages also fetch a favicon and Google Fonts.
    page = mirror_client.get(path).text
    assert "https://" not in page
    assert "cdn.jsdelivr.net" not in page


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_behind_a_prefix_the_document_is_linked_under_it(settings, path):
    client = TestClient(docs_app(settings), root_path="/config")
    page = client.get(path).text
    assert '<a href="/config/openapi.json">/config/openapi.json</a>' in page
    assert 'data-openapi-url="/config/openapi.json"' in page


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_pages_need_no_token_when_the_api_does(settings, path):
    app = docs_app(settings)
    app.add_middleware(
        AccessMiddleware, tokens=TokenSource(None, read_tokens=frozenset({"reader"}))
    )
    client = TestClient(app)
    assert client.get("/api/v1/things").status_code == 401
    assert client.get(path).status_code == 200


def test_an_app_with_fastapis_own_pages_is_refused(settings):
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI(), settings)


def test_without_an_openapi_document_there_are_no_pages(settings):
    client = TestClient(docs_app(settings, openapi_url=None))
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
