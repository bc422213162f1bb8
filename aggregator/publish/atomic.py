"""Publishing a built site: atomically, and without rewriting pages that did not change.

Layout: ``<out>`` is a symbolic link to a complete build in ``.<out name>.builds/<id>/`` beside it. A render
writes a new build there (pages whose bytes are unchanged are hard links to the published copy, so they keep
their inode and mtime and are not rewritten), then points ``<out>`` at it with one ``rename(2)`` of a fresh
link ``<out>.tmp-<pid>`` over ``<out>``.

Guarantee: a web server following ``<out>`` sees either the whole old site or the whole new one, never a
mix or a half-written page; a render that fails before the swap leaves the published site untouched. The
previous build is kept until the next swap, so a reader that resolved the old link a moment ago can finish.
Not guaranteed: durability of the new pages on power loss (files are not fsynced, for speed; the next
render rewrites whatever differs). What a render killed mid-publish leaves (an unfinished build, a temporary
link or manifest) is never served and is removed by the next render, also one that finds nothing changed.

If ``<out>`` is a plain directory written by an older version of aggregator (it holds our manifest), it is
replaced with two renames (old aside, link in): there is a window of a few microseconds without a site.
A plain directory that is not ours is refused rather than deleted.

A re-render with nothing new writes nothing: the manifest of the published build (sha256 per file) is
compared with the new pages first, and when nothing differs no build is made. The manifest also keeps an
input key per page, so the renderer can skip rendering pages whose inputs did not change (see render.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import RenderError

log = logging.getLogger(__name__)

MANIFEST = ".aggregator-site.json"


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    build_dir: Path  # the build now published
    files: int
    written: int  # new or changed files written
    unchanged: int  # files carried over as hard links, untouched
    removed: int  # files of the previous build no longer in the site
    swapped: bool  # False when nothing differed and nothing was written


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def builds_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.builds"


def published_build(out: Path) -> Path | None:
    """The build directory ``out`` currently serves, or None when nothing is published yet."""
    if out.is_symlink():
        target = out.resolve()
        return target if target.is_dir() else None
    if not out.exists():
        return None
    if not out.is_dir():
        raise RenderError(f"{out} is a file, not a site directory: choose another output directory")
    if (out / MANIFEST).is_file():
        return out
    if any(out.iterdir()):
        raise RenderError(
            f"{out} is a directory with files that aggregator did not write: empty it or choose another "
            "output directory (aggregator replaces the whole folder on every render)"
        )
    return None


def _read_manifest(build: Path | None) -> tuple[dict[str, str], dict[str, str]]:
    """(sha256 per file, input key per file) of a published build; empty when unknown or unreadable."""
    if build is None:
        return {}, {}
    try:
        data = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    if not isinstance(data, dict):
        return {}, {}
    parts = []
    for key in ("files", "inputs"):
        value = data.get(key)
        parts.append({str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {})
    return parts[0], parts[1]


def read_manifest(build: Path | None) -> dict[str, str]:
    return _read_manifest(build)[0]


def published_inputs(out: Path) -> dict[str, str]:
    """The input keys the published pages were rendered from (see :func:`publish_tree`); {} if none."""
    try:
        return _read_manifest(published_build(Path(os.path.abspath(out))))[1]
    except RenderError:
        return {}


class StaleReuseError(RenderError):
    """A page was to be kept from the published build, but that build no longer has it: render it afresh."""


@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise RenderError(f"another render is publishing to {directory.parent}; try again later") from e
        yield


def publish_tree(
    out: Path, files: Mapping[str, bytes | None], inputs: Mapping[str, str] | None = None
) -> PublishResult:
    """Make ``out`` serve exactly ``files`` (relative POSIX path -> bytes).

    A value of None means "the published file, unchanged": the renderer saw that the page's inputs (``inputs``,
    an opaque key per path, stored in the manifest) are those it was last rendered from and skipped it.
    Raises :class:`StaleReuseError` if such a file is not in the published build."""
    out = Path(os.path.abspath(out))
    _refuse_inside_a_build(out)
    for rel in files:
        if rel.startswith("/") or ".." in rel.split("/") or rel == MANIFEST:
            raise ValueError(f"bad page path {rel!r}")
    try:
        return _publish(out, files, dict(inputs or {}))
    except RenderError:
        raise
    except (
        OSError
    ) as e:  # a full disk, no permission, a file where a folder should be: one line, no traceback
        where = f"{e.filename}: " if e.filename and Path(e.filename) != out else ""
        raise RenderError(f"cannot write the site to {out}: {where}{e.strerror or e}") from e


def _publish(out: Path, files: Mapping[str, bytes | None], inputs: dict[str, str]) -> PublishResult:
    out.parent.mkdir(parents=True, exist_ok=True)
    builds = builds_dir(out)
    with _lock(builds):
        current = published_build(out)
        _clear_leftovers(out, builds, current)
        old, old_inputs = _read_manifest(current)
        hashes = {}
        for rel, data in files.items():
            if data is not None:
                hashes[rel] = digest(data)
            elif current is not None and rel in old and (current / rel).is_file():
                hashes[rel] = old[rel]
            else:
                raise StaleReuseError(f"{rel} is not in the published site {out}")
        changed = [rel for rel, h in hashes.items() if old.get(rel) != h]
        removed = [rel for rel in old if rel not in files]
        legacy = current is not None and current == out  # a plain directory, not a link yet
        if current is not None and not changed and not removed and not legacy:
            if (
                inputs != old_inputs
            ):  # same pages from other inputs: remember them, or the next render redoes it
                _write_manifest(current, hashes, inputs)
            log.info("site unchanged: nothing written to %s", out)
            return PublishResult(out, current, len(files), 0, len(files), 0, swapped=False)
        build = builds / f"{os.getpid()}-{secrets.token_hex(4)}"
        try:
            _write_build(build, files, set(changed), current)
            _write_manifest(build, hashes, inputs)
            _swap(out, build, legacy)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        _prune(builds, keep={build, *([current] if current and not legacy else [])})
    kept = len(files) - len(changed)
    log.info("published %s: %d written, %d unchanged, %d removed", out, len(changed), kept, len(removed))
    return PublishResult(out, build, len(files), len(changed), kept, len(removed), swapped=True)


def _clear_leftovers(out: Path, builds: Path, current: Path | None) -> None:
    """Remove what a render killed mid-publish left behind (the publish lock is held, so no render is running):
    unfinished builds (no manifest), temporary links and manifests, a site moved aside in the middle of a swap.
    Done at every render, also one that then finds nothing changed."""
    for entry in builds.iterdir():
        if entry.is_dir() and not entry.is_symlink() and entry != current and not (entry / MANIFEST).exists():
            log.info("removing an unfinished build left by an interrupted render: %s", entry)
            shutil.rmtree(entry, ignore_errors=True)
    if current is not None:
        for tmp in current.glob(f"{MANIFEST}.tmp-*"):
            tmp.unlink(missing_ok=True)
    for link in out.parent.glob(f"{out.name}.tmp-*"):
        if link.is_symlink():
            link.unlink(missing_ok=True)
    for aside in out.parent.glob(f"{out.name}.old-*"):
        if not aside.is_dir() or aside.is_symlink():
            continue
        if not out.exists() and not out.is_symlink() and (aside / MANIFEST).is_file():
            os.rename(aside, out)  # killed between moving the old site aside and linking the new one in
        else:
            shutil.rmtree(aside, ignore_errors=True)


def _refuse_inside_a_build(out: Path) -> None:
    """A build is not a site: publishing into one (or over one) would vanish when that build is pruned."""
    for part in Path(os.path.realpath(out.parent)).parts:
        if part.startswith(".") and part.endswith(".builds"):
            raise RenderError(
                f"{out} is inside a published build ({part}); give the site's own directory (the link) instead"
            )


def _write_manifest(build: Path, hashes: Mapping[str, str], inputs: Mapping[str, str]) -> None:
    manifest = {"files": dict(sorted(hashes.items())), "inputs": dict(sorted(inputs.items()))}
    tmp = build / f"{MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(manifest, indent=0), encoding="utf-8")
    os.replace(tmp, build / MANIFEST)


def _write_build(
    build: Path, files: Mapping[str, bytes | None], changed: set[str], current: Path | None
) -> None:
    build.mkdir(parents=True)
    made: set[Path] = {build}
    for rel, data in files.items():
        target = build / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if rel not in changed and current is not None:
            try:
                os.link(current / rel, target)  # same bytes: keep the published file (inode, mtime)
                continue
            except OSError:
                if (current / rel).is_file():
                    shutil.copy2(current / rel, target)
                    continue
        if data is None:
            raise StaleReuseError(f"{rel} could not be carried over from {current}")
        target.write_bytes(data)


def _swap(out: Path, build: Path, legacy: bool) -> None:
    link = out.parent / f"{out.name}.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(os.path.relpath(build, out.parent), link)
    try:
        if legacy or (out.is_dir() and not out.is_symlink()):
            aside = out.parent / f"{out.name}.old-{os.getpid()}"
            os.rename(out, aside)
            os.replace(link, out)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(link, out)  # atomic: readers see the old link or the new one
    except OSError as e:
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        raise RenderError(f"cannot publish the site to {out}: {e}") from e


def _prune(builds: Path, keep: set[Path]) -> None:
    """Delete builds other than ``keep`` (the new one and the one it replaced)."""
    kept = {path.resolve() for path in keep}
    for entry in builds.iterdir():
        if entry.is_dir() and entry.resolve() not in kept:
            shutil.rmtree(entry, ignore_errors=True)
