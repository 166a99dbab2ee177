"""Benchmarks that print figures: `python -m benchmarks.<name>`. They share the tests' loopback server."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
