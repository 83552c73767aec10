"""Every file a verb writes: checked before the work starts, written atomically, under exactly
the name it was given.

A verb calls :func:`output_file` (or :func:`output_dir` for a folder of files) at the top of its
``run``, so that a destination that cannot be written (a directory where a file is expected, a
parent that cannot be created, a folder that takes no new files, an unknown picture extension)
fails in one line before anything is computed. The write itself goes to a temporary file in the
destination's directory that :func:`os.replace` moves over the destination only once it is
complete and on disk: a failure (a full disk, an interrupt) leaves neither a half-written file nor
the temporary behind. Missing parent directories are created; a symbolic link is followed, so
that the link stays. A destination that exists and is not a regular file (``/dev/null``, a pipe)
cannot be replaced and is written directly; ``/dev/stdout``, ``/dev/fd/N`` write to that open
descriptor (where it stands, whatever file it is). A failure there (``/dev/full``: no space
left) is an error too. ``-`` means stdout where a verb allows it. Imports nothing from moldojo
but the errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, overload

from moldojo._json import strict_json
from moldojo.errors import MoldojoError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["IMAGE_FORMATS", "OutputDir", "OutputFile", "output_dir", "output_file", "strict_json"]

# Picture formats by extension: the ones Pillow writes without optional libraries.
IMAGE_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP",
    ".tif": "TIFF", ".tiff": "TIFF", ".pdf": "PDF",
}  # fmt: skip
_DESCRIPTORS = {"/dev/stdout": 1, "/dev/stderr": 2}


@dataclass(frozen=True)
class OutputFile:
    """A file a verb will write, its destination checked by :func:`output_file`.

    Attributes:
        name: the name as given on the command line; messages show it, and it is never changed
            (no extension is appended).
        flag: the option that named it (``-o``, ``--json``), for messages.
        path: where the bytes go; ``None`` means stdout. A symbolic link is followed, so that
            the link itself stays in place.
        image_format: the Pillow format its extension names, for pictures (else ``None``).
        descriptor: the open file descriptor the name stands for (``/dev/stdout`` is 1,
            ``/dev/fd/N`` is N), written in place; else ``None``.
    """

    name: str
    flag: str
    path: Path | None
    image_format: str | None = None
    descriptor: int | None = None

    def __str__(self) -> str:
        return self.name

    @property
    def is_stdout(self) -> bool:
        return self.path is None

    def open(self) -> contextlib.AbstractContextManager[BinaryIO]:
        """A binary file object to write the whole content to (``np.save(handle, z)``).

        Raises:
            MoldojoError: the content could not be written (one line: the name and why); no
                temporary file is left behind.
        """
        if self.path is None:
            return _stdout(self)
        if self.descriptor is not None:
            return _descriptor(self.descriptor, self)
        if self.path.exists() and not self.path.is_file():  # /dev/null, a pipe: not replaceable
            return _direct(self.path, self)
        return _atomic(self.path, self)

    def write_bytes(self, data: bytes) -> None:
        with self.open() as handle:
            handle.write(data)

    def write_text(self, text: str) -> None:
        if self.path is not None:
            self.write_bytes(text.encode("utf-8"))
            return
        try:  # stdout as text: it may be a stream without a binary buffer (a notebook's)
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as error:
            raise _write_error(self, error) from error

    def write_json(self, data: Any) -> None:
        """Strict JSON (see :func:`strict_json`), indented, with a final newline."""
        self.write_text(strict_json(data) + "\n")

    def write_image(self, image: Image.Image) -> None:
        """A Pillow image in the format the extension names."""
        fmt = self.image_format or "PNG"
        if fmt != "PNG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")  # JPEG, BMP, PDF take no alpha channel
        with self.open() as handle:
            image.save(handle, format=fmt)


@dataclass(frozen=True)
class OutputDir:
    """A directory a verb will write files into, checked by :func:`output_dir`; created (with
    its parents) when the first file is written.

    Attributes:
        name: the name as given on the command line.
        flag: the option that named it (``--plots``, ``--out``).
        path: the directory.
    """

    name: str
    flag: str
    path: Path

    def __str__(self) -> str:
        return self.name

    def file(self, filename: str) -> OutputFile:
        """The file ``filename`` inside the directory, written like any :class:`OutputFile`."""
        return OutputFile(str(self.path / filename), self.flag, self.path / filename)


@overload
def output_file(name: str, flag: str, *, stdout: bool = ..., image: bool = ...) -> OutputFile: ...
@overload
def output_file(
    name: str | None, flag: str, *, stdout: bool = ..., image: bool = ...
) -> OutputFile | None: ...
def output_file(
    name: str | None, flag: str, *, stdout: bool = False, image: bool = False
) -> OutputFile | None:
    """Check that ``name`` can be written as a file, before the work that produces it.

    Args:
        name: the file name given on the command line (``None``: the option was not given).
        flag: the option, for messages (``-o``, ``--json``).
        stdout: ``-`` means stdout (for text outputs).
        image: a picture: the extension must name a format of :data:`IMAGE_FORMATS`.

    Returns:
        The checked destination, or ``None`` when ``name`` is ``None``.

    Raises:
        MoldojoError: ``name`` is a directory, its extension names no picture format, it is a
            read-only file, or no file can be created where it lies (one line: what and why).
    """
    if name is None:
        return None
    if name == "-":
        if stdout:
            return OutputFile(name, flag, None)
        raise MoldojoError(f"{flag} -: this output cannot go to stdout; give a file name")
    path = Path(name)
    image_format = None
    if image:
        image_format = IMAGE_FORMATS.get(path.suffix.lower())
        if image_format is None:
            known = ", ".join(IMAGE_FORMATS)
            raise MoldojoError(
                f"{flag} {name}: cannot tell the picture format from the name "
                f"({path.suffix or 'no extension'}); end it with one of {known}"
            )
    if name.endswith(("/", os.sep)) or path.is_dir():
        raise MoldojoError(f"cannot write {name} ({flag}): it is a directory; give a file name")
    descriptor = _DESCRIPTORS.get(name)
    if descriptor is None and re.fullmatch(r"/(dev|proc/self)/fd/\d+", name):
        descriptor = int(name.rsplit("/", 1)[1])
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError as error:
            raise MoldojoError(f"cannot write {name} ({flag}): it is not open") from error
        return OutputFile(name, flag, path, image_format, descriptor=descriptor)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target.exists():
        if not os.access(target, os.W_OK):
            raise MoldojoError(f"cannot write {name} ({flag}): permission denied")
        if not target.is_file():  # a device or a pipe cannot be replaced
            return OutputFile(name, flag, target, image_format)
    _check_can_create(target.parent, name, flag)
    return OutputFile(name, flag, target, image_format)


@overload
def output_dir(name: str, flag: str) -> OutputDir: ...
@overload
def output_dir(name: str | None, flag: str) -> OutputDir | None: ...
def output_dir(name: str | None, flag: str) -> OutputDir | None:
    """Check that ``name`` is, or can be created as, a directory that takes new files.

    Nothing is created: a failed run leaves no empty directory.

    Returns:
        The checked directory, or ``None`` when ``name`` is ``None``.

    Raises:
        MoldojoError: ``name`` exists and is not a directory, or no directory or file can be
            created there (one line: what and why).
    """
    if name is None:
        return None
    path = Path(name)
    if path.exists() and not path.is_dir():
        raise MoldojoError(f"cannot write into {name} ({flag}): it is a file, not a directory")
    _check_can_create(path, name, flag)
    return OutputDir(name, flag, path)


def _check_can_create(directory: Path, name: str, flag: str) -> None:
    """A file can be created in ``directory``, or in the nearest existing folder above it (where
    the missing directories will be made): tried with a temporary file, since permissions alone
    do not tell (root, read-only mounts, ``/proc``)."""
    existing = directory
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise MoldojoError(f"cannot write {name} ({flag}): {existing} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".moldojo-", suffix=".probe")
    except OSError as error:
        reason = error.strerror or str(error)
        raise MoldojoError(
            f"cannot write {name} ({flag}): {existing} takes no new files ({reason})"
        ) from error
    os.close(handle)
    os.unlink(probe)


def _write_error(output: OutputFile, error: OSError) -> MoldojoError:
    return MoldojoError(f"cannot write {output.name} ({output.flag}): {error.strerror or error}")


@contextlib.contextmanager
def _atomic(path: Path, output: OutputFile) -> Iterator[BinaryIO]:
    """Write a temporary file next to ``path``, then move it over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _write_error(output, error) from error
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())  # a full disk shows here at the latest, not after the move
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise _write_error(output, error) from error
        raise


@contextlib.contextmanager
def _direct(path: Path, output: OutputFile) -> Iterator[BinaryIO]:
    """Write straight into a device or a pipe (which cannot be replaced)."""
    try:
        with open(path, "wb") as file:
            yield file
    except OSError as error:
        raise _write_error(output, error) from error


@contextlib.contextmanager
def _descriptor(descriptor: int, output: OutputFile) -> Iterator[BinaryIO]:
    """Write to an open descriptor at its current position, after what this process wrote."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(os.dup(descriptor), "wb") as file:
            yield file
    except OSError as error:
        raise _write_error(output, error) from error


@contextlib.contextmanager
def _stdout(output: OutputFile) -> Iterator[BinaryIO]:
    try:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    except OSError as error:
        raise _write_error(output, error) from error


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
