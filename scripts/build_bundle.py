"""Build dist/focus-mcp-<version>.mcpb, a Claude Desktop extension (MCPB), reproducibly.

The bundle holds manifest.json, server/main.py and server/lib: focus_mcp plus its runtime
dependencies at exactly the versions installed in the running environment. pydantic-core is
compiled, so a bundle serves the platform and Python version it was built on; the bundle's
manifest says which. Same environment in, same bytes out: files are sorted, timestamps fixed,
caches and install paths left out.

Run from the repository root: .venv/bin/python scripts/build_bundle.py
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
LAUNCHER = '''"""Start focus-mcp from the bundle: its dependencies live in lib/ beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from focus_mcp.cli import main  # noqa: E402

raise SystemExit(main())
'''


def runtime_pins(project: str = "focus-mcp") -> list[str]:
    """name==version for every runtime dependency of `project`, transitively, as installed here."""
    pins: dict[str, str] = {}
    pending = [project]
    while pending:
        dist = metadata.distribution(pending.pop())
        for raw in dist.requires or []:
            requirement = Requirement(raw)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name not in pins:
                pins[name] = metadata.version(name)
                pending.append(name)
    return sorted(f"{name}=={version}" for name, version in pins.items())


def bundle_manifest() -> dict[str, object]:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    major, minor = sys.version_info[:2]
    manifest["compatibility"] = {
        **manifest.get("compatibility", {}),
        "platforms": [PLATFORMS.get(sys.platform, sys.platform)],
        "runtimes": {"python": f">={major}.{minor},<{major}.{minor + 1}"},
    }
    return dict(manifest)


def build() -> Path:
    stage = DIST / "bundle"
    shutil.rmtree(stage, ignore_errors=True)
    lib = stage / "server" / "lib"
    lib.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", "--target", str(lib), *runtime_pins()], check=True)
    subprocess.run([*pip, "--no-deps", "--target", str(lib), str(ROOT)], check=True)
    # Scripts (bin/) carry the build venv's path, direct_url.json the checkout's, RECORD the hashes of both.
    stale = [*lib.glob("*.dist-info/direct_url.json"), *lib.glob("*.dist-info/RECORD"), lib / "bin"]
    for junk in [*lib.rglob("__pycache__"), *stale]:
        if junk.is_dir():
            shutil.rmtree(junk)
        elif junk.exists():
            junk.unlink()
    (stage / "server" / "main.py").write_text(LAUNCHER, encoding="utf-8")
    manifest = bundle_manifest()
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    target = DIST / f"focus-mcp-{manifest['version']}-{sys.platform}-{platform.machine()}-{python}.mcpb"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(path.relative_to(stage).as_posix(), FIXED_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, path.read_bytes())
    return target


if __name__ == "__main__":
    built = build()
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    print(f"{built.relative_to(ROOT)} {built.stat().st_size} bytes sha256 {digest}")
