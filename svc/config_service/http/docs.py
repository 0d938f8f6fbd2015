"""/docs (Swagger UI) and /redoc (ReDoc) from configurable asset URLs, saying so if they fail.

FastAPI's own pages load their scripts from a CDN and stay blank where it cannot be reached.
These load them from DOCS_JS_URL, DOCS_CSS_URL and REDOC_JS_URL (an internal mirror, say), and
when a viewer does not load, show a message and a link to the raw OpenAPI document instead.
"""

from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from config_service.settings import Settings

# Runs before the viewer's script, so that its onerror, the start script and the timer can all
# show the message. The timer gives a slow mirror 8 s to deliver a ~1 MB script; a viewer that
# renders later still takes the message away.
WATCH_SCRIPT = """
var docsViewer = document.getElementById("docs-viewer");
var docsUnavailableMessage = document.getElementById("docs-unavailable");
function docsUnavailable() { docsUnavailableMessage.hidden = false; }
new MutationObserver(function () { docsUnavailableMessage.hidden = true; })
  .observe(docsViewer, {childList: true});
setTimeout(function () { if (!docsViewer.children.length) docsUnavailable(); }, 8000);
"""

# The same options as FastAPI's page (its swagger_ui_default_parameters), on our element.
SWAGGER_START_SCRIPT = """
if (typeof SwaggerUIBundle !== "function") {
  docsUnavailable();
} else {
  try {
    SwaggerUIBundle({
      url: docsViewer.dataset.openapiUrl,
      domNode: docsViewer,
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    });
  } catch (error) {
    docsUnavailable();
    throw error;
  }
}
"""

REDOC_START_SCRIPT = """
if (typeof Redoc !== "object" || typeof Redoc.init !== "function") {
  docsUnavailable();
} else {
  try {
    Redoc.init(docsViewer.dataset.openapiUrl, {}, docsViewer);
  } catch (error) {
    docsUnavailable();
    throw error;
  }
}
"""


def _page(
    *, title: str, openapi_url: str, js_url: str, settings_hint: str, head: str, start: str
) -> HTMLResponse:
    """A viewer page; every value but `head` and `start` is escaped here."""
    title, openapi_url, js_url = escape(title), escape(openapi_url), escape(js_url)
    link = f'<a href="{openapi_url}">{openapi_url}</a>'
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{head}
<style>
  body {{ margin: 0; }}
  .docs-message {{ margin: 2em; max-width: 50em; font: 16px/1.5 sans-serif; }}
</style>
</head>
<body>
<noscript><div class="docs-message">
<p>The documentation viewer needs JavaScript.</p>
<p>The raw OpenAPI document is at {link}.</p>
</div></noscript>
<div id="docs-unavailable" class="docs-message" role="alert" hidden>
<p>The documentation viewer could not be loaded from <code>{js_url}</code>.</p>
<p>The raw OpenAPI document is at {link}.</p>
<p>Where the internet cannot be reached, point {escape(settings_hint)} at a copy.</p>
</div>
<div id="docs-viewer" data-openapi-url="{openapi_url}"></div>
<script>{WATCH_SCRIPT}</script>
<script src="{js_url}" onerror="docsUnavailable()"></script>
<script>{start}</script>
</body>
</html>
""")


def install_docs(app: FastAPI, settings: Settings) -> None:
    """Serve /docs and /redoc; the app must be created with docs_url=None, redoc_url=None."""
    if app.docs_url or app.redoc_url:  # FastAPI's routes were added first and would win
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    if app.openapi_url is None:  # nothing to document
        return
    document_path = app.openapi_url

    def openapi_url(request: Request) -> str:
        # Behind a proxy that mounts the service under a prefix, the document is there too.
        return request.scope.get("root_path", "").rstrip("/") + document_path

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _page(
            title=f"{app.title} - Swagger UI",
            openapi_url=openapi_url(request),
            js_url=settings.docs_js_url,
            settings_hint="DOCS_JS_URL and DOCS_CSS_URL",
            head=f'<link rel="stylesheet" href="{escape(settings.docs_css_url)}">',
            start=SWAGGER_START_SCRIPT,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _page(
            title=f"{app.title} - ReDoc",
            openapi_url=openapi_url(request),
            js_url=settings.redoc_js_url,
            settings_hint="REDOC_JS_URL",
            head="",
            start=REDOC_START_SCRIPT,
        )
