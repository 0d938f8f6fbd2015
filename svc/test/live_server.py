"""The app served by a real uvicorn on 127.0.0.1, in a thread, for tests that need sockets."""

import threading
import time

import uvicorn
from fastapi import FastAPI

from config_service.server import listening_socket


class LiveServer:
    def __init__(self, app: FastAPI):
        self._sock = listening_socket("127.0.0.1", 0)
        port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]})

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
