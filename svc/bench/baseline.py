"""The baseline: the least a FastAPI service can do to serve a configuration.

One SELECT by primary key through ThreadedConnectionPool + ThreadPoolExecutor, the row
returned as JSON: written the way most FastAPI + psycopg2 code is. Served with the same
uvicorn settings as the service. Run as `python -m bench.baseline` (DATABASE_URL, PORT).
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import psycopg2.extras
import psycopg2.pool
import uvicorn
from fastapi import FastAPI

from config_service.server import listening_socket


def create_baseline_app(dsn: str, pool_size: int) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = psycopg2.pool.ThreadedConnectionPool(
            pool_size, pool_size, dsn, cursor_factory=psycopg2.extras.RealDictCursor
        )
        app.state.executor = ThreadPoolExecutor(max_workers=pool_size)
        yield
        app.state.executor.shutdown()
        app.state.pool.closeall()

    app = FastAPI(lifespan=lifespan)

    @app.get("/configurations/{configuration_id}")
    async def get_configuration(configuration_id: str):
        pool = app.state.pool

        def select():
            connection = pool.getconn()
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT id, application_id, name, comments, config"
                        " FROM configurations WHERE id = %s",
                        (configuration_id,),
                    )
                    return cursor.fetchone()
            finally:
                pool.putconn(connection)

        return await asyncio.get_running_loop().run_in_executor(app.state.executor, select)

    return app


def main() -> None:
    app = create_baseline_app(os.environ["DATABASE_URL"], int(os.environ.get("DB_POOL_SIZE", "8")))
    config = uvicorn.Config(app, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[listening_socket("127.0.0.1", int(os.environ["PORT"]))])


if __name__ == "__main__":
    main()
