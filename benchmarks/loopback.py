"""A sandbox API served by uvicorn on a free loopback port, for benchmarks that need a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from focus_mcp.sandbox import SandboxAPI


@contextmanager
def serve_sandbox(quota: int = 1_000_000) -> Iterator[str]:
    """Yield the base URL of a sandbox API on 127.0.0.1 for the duration of the block."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(SandboxAPI(quota=quota).app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        thread.join(5)
