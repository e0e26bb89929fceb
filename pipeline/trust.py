"""Which local files Warta may read: one rule, used by every path that reads a file.

A file is read only if its *real* path (every symbolic link resolved) lies inside an allowed root.

- ``warta ingest PATH...``: the roots are the paths named (a person at the shell can read what
  they name, and only that); with ``--sources``, each ``files``/``warc`` path of the sources file.
- The DAG: the roots are the allow-list ``WARTA_INPUT_ROOTS`` (default: the project's ``seeds/``
  and the sources file's folder). Its ``paths`` and ``sources_file`` params, and every local path
  a sources file names, must lie inside it, or the run's first task fails before anything is read:
  whoever may trigger a run cannot make Warta index files the operator did not offer.
- ``warta deadletter replay``: a file is re-read only at the real path it was read from.

Walking a folder (``walk``): a symbolic link is followed only when its target lies inside the
root being walked; a link leading outside, a broken link, a link loop, a FIFO, a socket or a
device, and hidden entries (``.name``) are each reported with a reason, never read and never
silently dropped. Each real file is yielded once, however many links reach it.

Opening (``open_input``) checks the file actually opened, not only the name: the real path is
opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO swapped in cannot block the run), then the open
descriptor's own path (``/proc/self/fd``) must still lie inside the root and ``fstat`` must say
it is a regular file, so a link swapped in between the check and the open cannot escape.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.sources_file import LocalSource, WebSource, load_sources, local_sources

ROOTS_SETTING = "WARTA_INPUT_ROOTS"


class OutsideRoots(ValueError):
    """A path lies outside every allowed root; the message names it and the setting that widens them."""


class Refused(Exception):
    """This entry is not read; ``reason`` says why (for its rejection record)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def real(path: Path) -> Path:
    """The real path (links resolved, made absolute); never raises for a loop or a missing file."""
    return Path(os.path.realpath(path))


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (a real path) is ``root`` or below it (``root`` real too)."""
    return path == root or root in path.parents


def require_inside(paths: Iterable[Path], roots: Iterable[Path], what: str) -> None:
    """Raise OutsideRoots for the first path whose real path lies outside every root."""
    real_roots = [real(r) for r in roots]
    for path in paths:
        if not any(inside(real(path), root) for root in real_roots):
            listed = ", ".join(str(r) for r in real_roots) or "(none)"
            raise OutsideRoots(
                f"{what} {path} is outside the allowed input folders ({listed}); "
                f"an operator can add its folder to {ROOTS_SETTING}"
            )


def dag_sources(
    sources_file: Path | None, paths: list[Path], default_sources_file: Path, roots: list[Path]
) -> list[LocalSource | WebSource]:
    """The sources a DAG run ingests, every local input inside ``roots`` (else OutsideRoots, before
    anything is read): the ``paths`` param, or the sources file (the ``sources_file`` param or the
    default) and every path and ``urls_file`` its sources name."""
    if paths:
        require_inside(paths, roots, "path")
        return local_sources(paths)
    chosen = sources_file or default_sources_file
    require_inside([chosen], roots, "sources_file")
    specs = load_sources(chosen)
    for spec in specs:
        if isinstance(spec, LocalSource):
            require_inside(spec.paths, roots, f"source {spec.name!r}: path")
        elif spec.urls_file is not None:
            require_inside([spec.urls_file], roots, f"source {spec.name!r}: urls_file")
    return specs


def _kind(mode: int) -> str | None:
    """What a non-regular, non-folder entry is, for its reason (None for files and folders)."""
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return None


def walk(top: Path, root: Path | None = None) -> Iterator[tuple[Path, str | None]]:
    """(path, None) for every regular file under ``top`` that may be read, and (path, reason) for
    every entry that is not; ``root`` defaults to ``top``'s real path. Sorted, depth first; each
    real file once."""
    root = real(top) if root is None else root
    seen_files: set[Path] = set()
    seen_folders: set[Path] = set()

    def visit(path: Path, *, named: bool = False) -> Iterator[tuple[Path, str | None]]:
        if not named and path.name.startswith("."):
            yield path, "hidden (its name starts with '.')"
            return
        link = path.is_symlink()
        try:
            target = real(path)
            info = os.stat(path)  # follows links: ELOOP for a loop, ENOENT for a broken link
        except OSError as err:
            if link and err.errno == 40:  # ELOOP
                yield path, "symbolic link loop"
            elif link:
                yield path, "broken symbolic link"
            else:
                yield path, f"unreadable: {err.strerror}"
            return
        if not inside(target, root):
            yield path, f"symbolic link leads outside {root}"
            return
        if stat.S_ISDIR(info.st_mode):
            if target in seen_folders:  # reached again through a link: its files are counted once
                return
            seen_folders.add(target)
            try:
                children = sorted(os.listdir(path))
            except OSError as err:
                yield path, f"folder unreadable: {err.strerror}"
                return
            for child in children:
                yield from visit(path / child)
            return
        kind = _kind(info.st_mode)
        if kind:
            yield path, f"{kind}, not a regular file"
            return
        if target not in seen_files:
            seen_files.add(target)
            yield path, None

    yield from visit(top, named=True)


def open_input(path: Path, root: Path) -> BinaryIO:
    """The regular file ``path`` opened for reading, proven to lie inside ``root`` (a real path);
    Refused if not.

    Opens the real path without following a final link and without blocking, then checks the
    descriptor itself (its path and type), so nothing swapped in after the walk's checks is read.
    """
    target = real(path)
    if not inside(target, root):
        raise Refused(f"symbolic link leads outside {root}")
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if err.errno == 40:  # ELOOP: the last component became a link after the walk
            raise Refused(f"symbolic link swapped in at {target}") from err
        raise Refused(f"cannot open: {err.strerror}") from err
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind or not stat.S_ISREG(info.st_mode):
            raise Refused(f"{kind or 'not a regular file'}, not read")
        opened = _fd_path(fd)
        if opened is not None and not inside(opened, root):
            raise Refused(f"the file opened lies outside {root} (a folder swapped for a link)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _fd_path(fd: int) -> Path | None:
    """The path the kernel has for an open descriptor (Linux); None where there is no /proc."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None
