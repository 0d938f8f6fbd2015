"""The baseline: the least a FastAPI + psycopg2 service can do to serve a configuration.

One primary-key SELECT on an autocommit connection (one round trip, no BEGIN/ROLLBACK) from
a ThreadedConnectionPool, in a ThreadPoolExecutor of the same size, and the row handed to
JSONResponse as it comes (no response_model, no jsonable_encoder, no middleware). Served
with the service's uvicorn settings: its `listening_socket`, access log off. Run as
`python -m bench.baseline` (DATABASE_URL, PORT, DB_POOL_SIZE).
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import psycopg2.extras
import psycopg2.pool
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from config_service.process.serving import listening_socket

SELECT = "SELECT id, application_id, name, comments, config FROM configurations WHERE id = %s"


def open_pool(dsn: str, size: int) -> psycopg2.pool.ThreadedConnectionPool:
    """`size` connections, opened now and set to autocommit once."""
    pool = psycopg2.pool.ThreadedConnectionPool(
        size, size, dsn, cursor_factory=psycopg2.extras.RealDictCursor
    )
    connections = [pool.getconn() for _ in range(size)]
    for connection in connections:
        connection.autocommit = True
        pool.putconn(connection)
    return pool


def create_baseline_app(dsn: str, pool_size: int) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = open_pool(dsn, pool_size)
        app.state.executor = ThreadPoolExecutor(max_workers=pool_size)
        yield
        app.state.executor.shutdown()
        app.state.pool.closeall()

    app = FastAPI(lifespan=lifespan)

    @app.get("/configurations/{configuration_id}")
    async def get_configuration(configuration_id: str) -> JSONResponse:
        pool = app.state.pool

        def select():
            connection = pool.getconn()
            try:
                with connection.cursor() as cursor:
                    cursor.execute(SELECT, (configuration_id,))
                    return cursor.fetchone()
            finally:
                pool.putconn(connection)

        row = await asyncio.get_running_loop().run_in_executor(app.state.executor, select)
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(row)

    return app


def main() -> None:
    app = create_baseline_app(os.environ["DATABASE_URL"], int(os.environ.get("DB_POOL_SIZE", "8")))
    config = uvicorn.Config(app, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[listening_socket("127.0.0.1", int(os.environ["PORT"]))])


if __name__ == "__main__":
    main()
