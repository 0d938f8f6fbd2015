"""GET /metrics: the whole service's Prometheus metrics, whichever worker answers the scrape.

Outside /api/v1 like the health checks, but guarded by the read tokens when tokens are set
(http/bearer.py), and logged at debug only (http/request_log.py).
"""

from fastapi import APIRouter, Request, Response

from config_service.telemetry.store import CONTENT_TYPE, Store

router = APIRouter(tags=["monitoring"])


def metrics_store_of(request: Request) -> Store:
    """Where this worker keeps its metrics, and whence a scrape reads every worker's."""
    return request.app.state.metrics_store


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics of every worker",
    response_class=Response,
    responses={
        200: {
            "description": "The text exposition format (0.0.4): counters and histograms summed "
            "over all workers, gauges summed or labelled by `worker`.",
            "content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Reading every worker's file takes about a millisecond: done on the event loop."""
    return Response(metrics_store_of(request).render(), media_type=CONTENT_TYPE)
