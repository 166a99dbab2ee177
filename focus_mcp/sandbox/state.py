"""The file in which one-shot `focus-mcp --sandbox call`s keep the sandbox's groups between calls.

Several calls may run at once, so every write reads and writes the file under a cross-process
lock (filelock), and goes to a unique temporary file that then replaces the old one atomically: no
reader sees half a file, no writer loses another's group. A read only reads (no lock, no file
created). The file lives in the user's own state directory (platformdirs) unless
TOGGL_FOCUS_SANDBOX_STATE names another; it is opened without following links and only if it is a
regular file, and validated as a pydantic model. Only a file that is absent or already valid
sandbox state is ever written: anything else at that path (a user's own file, a link, a FIFO) is
left untouched byte for byte; a read then starts from the seed, saying why once, and a write is
refused, saying why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from focus_mcp.sandbox.data import SeedGroup
from focus_mcp.sandbox.query import ApiProblem

log = logging.getLogger(__name__)

MAX_STATE_BYTES = 4 << 20  # far more than any sandbox organization needs
OWNER_ONLY = 0o600  # the state file's mode (mkstemp's) and its lock's
Text = Annotated[str, Field(max_length=255)]


class SavedGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: PositiveInt
    name: Text
    emoji: Annotated[str, Field(max_length=32)]
    workspaces: list[PositiveInt]
    users: list[PositiveInt]
    ghosts: list[tuple[PositiveInt, Text]]
    roles: dict[str, PositiveInt | None]  # JSON object keys are strings: organization user id -> role id
    created_at: Text
    updated_at: Text


class SavedState(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    next_group_id: PositiveInt
    groups: list[SavedGroup]


def default_state_file(configured: Path | None = None) -> Path:
    """`configured` (the setting TOGGL_FOCUS_SANDBOX_STATE), else `sandbox-state.json` in the user's state directory."""
    if configured is not None:
        return configured
    return platformdirs.user_state_path("focus-mcp", appauthor=False) / "sandbox-state.json"


Saved = tuple[dict[int, SeedGroup], int]  # the groups and the next group id


class NotSandboxState(ApiProblem):
    """Something at the state path that is not sandbox state: never written over."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            400,
            "sandbox_state_unusable",
            f"the sandbox state file {path} {problem}, so it is left untouched and nothing was written to it. "
            "Set TOGGL_FOCUS_SANDBOX_STATE to a path of the sandbox's own (an absent file, or one it wrote)",
        )


class StateFile:
    """The groups and the next group id, read and written under one lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = f"{path}.lock"
        from filelock import AsyncFileLock  # ~80 ms to import: only one-shot `--sandbox call`s use the file

        self._lock = AsyncFileLock(self._lock_path, mode=OWNER_ONLY, thread_local=False)  # like the state file
        self._reported = False

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the cross-process lock: from reading the state to writing it back."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(self._lock_path)
        async with self._lock:
            yield

    def load(self) -> Saved | None:
        """The saved groups and next id; None when there is no file (the caller starts from the seed).
        Raises NotSandboxState when something else is there."""
        try:
            raw = self._read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise NotSandboxState(self.path, f"cannot be read safely ({exc.strerror or exc})") from None
        try:
            state = SavedState.model_validate_json(raw)
        except ValidationError as exc:
            problem = f"is not a sandbox state ({exc.error_count()} problems, first: {exc.errors()[0]['msg']})"
            raise NotSandboxState(self.path, problem) from None
        groups = {
            g.id: SeedGroup(
                id=g.id,
                name=g.name,
                emoji=g.emoji,
                workspaces=list(g.workspaces),
                users=list(g.users),
                ghosts=[(i, n) for i, n in g.ghosts],
                roles={int(u): r for u, r in g.roles.items() if u.isdigit()},
                created_at=g.created_at,
                updated_at=g.updated_at,
            )
            for g in state.groups
        }
        return groups, state.next_group_id

    def load_for_reading(self) -> Saved | None:
        """As load, but a file that is not sandbox state is reported once and read as absent: a read
        needs nothing from it, and writes nothing."""
        try:
            return self.load()
        except NotSandboxState as refused:
            if not self._reported:
                log.warning("%s; this call starts from the sandbox's seed.", refused.description)
                self._reported = True
            return None

    def save(self, groups: dict[int, SeedGroup], next_id: int) -> None:
        """Write to a unique temporary file beside the state, then replace the state with it."""
        saved = [{**asdict(g), "roles": {str(u): r for u, r in g.roles.items()}} for g in groups.values()]
        body = SavedState.model_validate({"next_group_id": next_id, "groups": saved}, strict=False).model_dump_json()
        fd, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".sandbox-state-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body)
            os.replace(scratch, self.path)  # replaces a link itself, never what it points to
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise

    def _read(self) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.path, flags)  # a link fails here (ELOOP); a FIFO opens without blocking
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise OSError(0, "not a regular file")
            return file.read(MAX_STATE_BYTES + 1)


def _owner_only(path: str) -> None:
    """A lock file made before filelock was given OWNER_ONLY (0644) is narrowed to it; filelock's mode
    only applies when it creates the file. Not followed through a link; nothing done where chmod is
    not ours to do (another user's file) or not available."""
    if not hasattr(os, "fchmod"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & ~OWNER_ONLY:
                os.fchmod(fd, OWNER_ONLY)
        finally:
            os.close(fd)
