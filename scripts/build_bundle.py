"""Build dist/focus-mcp-<version>.mcpb: one Claude Desktop extension for every platform and Python.

The bundle uses the MCPB manifest 0.4 `uv` server type: it carries manifest.json, pyproject.toml,
uv.lock, README.md, LICENSE, the icon and the focus_mcp package, and the host's uv installs the
dependencies for the platform and Python it runs on (nothing compiled is bundled). uv.lock pins them:
the manifest's command is `uv run --frozen`, so every user gets the versions CI tested (uv.lock is
universal: every platform and Python the project allows), and uv never resolves them anew. The build
is reproducible: the same checkout gives the same bytes (entries sorted, timestamps fixed). It is not
signed (`mcpb sign` needs a certificate the project does not have); `mcpb info` shows what it holds.

It needs nothing beyond Python 3.11+: run from the repository root, `python3 scripts/build_bundle.py`
(or `.venv/bin/python scripts/build_bundle.py`).
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
TOP_FILES = ("manifest.json", "pyproject.toml", "uv.lock", "README.md", "LICENSE")  # uv.lock: `uv lock`


def version() -> str:
    found = re.search(r'^__version__ = "([^"]+)"', (ROOT / "focus_mcp" / "__init__.py").read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit("focus_mcp/__init__.py has no __version__")
    return found.group(1)


def bundle_files(manifest: dict[str, Any]) -> list[Path]:
    package = [p for p in (ROOT / "focus_mcp").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    icon = [ROOT / manifest["icon"]] if "icon" in manifest else []  # hosts list extensions by their icon
    return sorted([ROOT / name for name in TOP_FILES] + icon + package)


def build() -> Path:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    if manifest["version"] != version():
        raise SystemExit(f"manifest.json says {manifest['version']}, focus_mcp says {version()}: make them agree")
    DIST.mkdir(exist_ok=True)
    target = DIST / f"focus-mcp-{version()}.mcpb"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in bundle_files(manifest):
            entry = zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), FIXED_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return target


if __name__ == "__main__":
    bundle = build()
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    print(f"{bundle.relative_to(ROOT)} {bundle.stat().st_size} bytes sha256 {digest}")
