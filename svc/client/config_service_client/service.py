"""One way to talk to the service: its root URL, the token, and errors that say what went wrong."""

import httpx

from config_service_client.backoff import retry_after_seconds

API = "/api/v1"
FATAL_STATUSES = frozenset({401, 403, 404, 410, 422})  # asking again cannot change the answer


class ServiceError(Exception):
    """The service refused a request, or could not be reached; `str()` is one line."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class FatalError(ServiceError):
    """An answer that retrying cannot change (no access, no such configuration)."""


def problem_detail(response: httpx.Response) -> str:
    """The problem+json `detail` (or title, or the start of the body), on one line."""
    try:
        problem = response.json()
        text = problem.get("detail") or problem.get("title") or ""
    except (ValueError, AttributeError):
        text = response.text[:200]
    return " ".join(str(text).split()) or response.reason_phrase


def error_for(response: httpx.Response) -> ServiceError:
    """The error a non-success answer stands for, naming the request."""
    request = response.request
    message = (
        f"{request.method} {request.url.path}: {response.status_code} {problem_detail(response)}"
    )
    kind = FatalError if response.status_code in FATAL_STATUSES else ServiceError
    return kind(
        message, response.status_code, retry_after_seconds(response.headers.get("Retry-After"))
    )


def put_if_match(
    http: httpx.Client,
    current: httpx.Response,
    body: dict,
    stale: ServiceError,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """PUT `body` to the configuration `current` is a GET of, with `If-Match` its ETag: raises
    `stale` on a 412 (someone changed it since; nothing is overwritten), the error it stands
    for on any other refusal."""
    response = http.put(
        f"/configurations/{current.json()['id']}",
        json=body,
        headers={"If-Match": current.headers["ETag"], **(headers or {})},
    )
    if response.status_code == 412:
        raise stale
    if response.status_code != 200:
        raise error_for(response)
    return response


def connect(base_url: str, token: str | None = None, timeout: float = 10) -> httpx.Client:
    """An httpx client on the service's API (`base_url` is its root, without /api/v1)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url.rstrip("/") + API, headers=headers, timeout=timeout)


def unreachable(base_url: str, error: httpx.TransportError) -> ServiceError:
    return ServiceError(f"cannot reach the service at {base_url}: {describe(error)}")


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
