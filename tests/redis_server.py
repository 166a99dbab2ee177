"""A real redis-server on a free loopback port, for the replica tests: started, awaited until it says
it is ready (its own log line, no polling), stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from loopback import free_port


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield the URL of a fresh, empty Redis (no persistence) for the life of the block."""
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "Ready to accept connections" in line:
            break
    else:
        raise RuntimeError(f"redis-server on port {port} did not start")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its log from filling the pipe
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
