"""Writing files safely: atomically, without leftovers, keeping permissions; checking folders early.

Every file lstmkit writes (saveNetwork, checkpoints, exportONNXNetwork, progress
plots) goes through :func:`write_atomically`: the new contents are written to a
hidden temporary file in the same folder (``.<name>.lstmkit-<random>.part``),
flushed to disk, and put in place with one rename, so a reader sees the old
file or the new one, never a part, and a process killed mid-write leaves the
old file as it was.  The temporary file is removed when writing fails; one
left by a process killed outright (kill -9) is removed by the next write of
the same file once it is an hour old (a younger one may belong to a write
still running).  An existing file keeps its permissions; a new one gets
those the user's umask gives a new file.
"""

from __future__ import annotations

import glob
import math
import os
import struct
import tempfile
import time
import zlib

from ._validation import fail

#: age after which a temporary file of a killed write is removed by the next write
STALE_SECONDS = 3600


def _umask_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _remove_stale(folder, prefix):
    now = time.time()
    for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "*.part")):
        try:
            if now - os.path.getmtime(path) > STALE_SECONDS:
                os.remove(path)
        except OSError:
            pass


def write_atomically(filename, write, func=None):
    """Write ``filename`` through ``write(fileobj)`` (a binary file object), atomically.

    On failure (an exception from ``write``, a full disk) the previous file is
    untouched and the temporary file removed; an OSError names ``filename``
    (and the public function ``func``, when given), never the temporary file.
    """
    filename = os.fspath(filename)
    folder = os.path.dirname(os.path.abspath(filename))
    prefix = f".{os.path.basename(filename)}.lstmkit-"
    try:
        mode = os.stat(filename).st_mode & 0o7777
    except OSError:
        mode = _umask_mode()
    tmp = None
    try:
        _remove_stale(folder, prefix)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, filename)
        tmp = None
    except OSError as err:
        reason = err.strerror or str(err)
        message = f"{func + ': ' if func else ''}cannot write '{filename}': {reason}"
        if err.errno is None:
            raise type(err)(message) from None
        raise type(err)(err.errno, message) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return filename


def check_writable_folder(func, option, folder):
    """An existing folder where files can be written, else an OSError naming it (no leftovers)."""
    folder = os.fspath(folder) if folder else "."
    if not os.path.isdir(folder):
        fail(func, f"`{option}` must be an existing folder. Received: {folder!r}, which does not "
                   f"exist.", FileNotFoundError)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        fail(func, f"files cannot be written in the folder {folder!r} of `{option}`: "
                   f"{err.strerror}.", PermissionError if isinstance(err, PermissionError)
             else OSError)


def machine_memory():
    """Bytes of physical memory (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_mat_size(func, path, limit=None):
    """Refuse a MAT-file (v5/v7) whose contents would not fit in memory, before reading it.

    Walks the file's top-level elements: an uncompressed one counts its byte
    size, a compressed one (MATLAB's default since v7) is decompressed in
    bounded chunks and only counted, so a small file that inflates to
    gigabytes (a "zip bomb") is refused with a clear error instead of
    exhausting memory.  A v7.3 file (HDF5) declares each dataset's shape and
    type, which are summed (with h5py, when it is installed: mat-io, which reads
    these files, needs it).  ``limit`` defaults to half the machine's memory.
    Files of other kinds are left to their readers.
    """
    limit = limit if limit is not None else (machine_memory() or 2 ** 40) // 2
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            header = f.read(128)
            if size >= 520:
                f.seek(512)
                if f.read(8) == b"\x89HDF\r\n\x1a\n":     # v7.3: HDF5 after a 512-byte header
                    _check_hdf5_size(func, path, size, limit)
                    return
            if len(header) < 128 or header[124:128] not in (b"\x00\x01IM", b"\x01\x00MI"):
                return                       # not MAT v5 (v4, damaged): its reader decides
            endian = "<" if header[126:128] == b"IM" else ">"
            total, offset = 0, 128
            while offset + 8 <= size:
                f.seek(offset)
                tag = f.read(8)
                dtype, nbytes = struct.unpack(endian + "II", tag)
                if dtype & 0xFFFF0000:       # a small element (data in the tag)
                    offset += 8
                    continue
                if dtype == 15:               # miCOMPRESSED
                    inflater = zlib.decompressobj()
                    remaining = nbytes
                    while remaining > 0:
                        chunk = f.read(min(remaining, 1 << 20))
                        if not chunk:
                            break
                        remaining -= len(chunk)
                        out = inflater.decompress(chunk, 1 << 24)
                        total += len(out)
                        while inflater.unconsumed_tail and total <= limit:
                            out = inflater.decompress(inflater.unconsumed_tail, 1 << 24)
                            total += len(out)
                        if total > limit:
                            break
                else:
                    total += nbytes
                if total > limit:
                    fail(func, f"'{path}' holds more than {limit / 2**30:.1f} GiB of data once "
                               f"decompressed ({size:,} bytes on disk); lstmkit does not read "
                               f"it (a damaged or hostile file?).", MemoryError)
                offset += 8 + nbytes + (-nbytes % 8 if dtype != 15 else 0)
    except (OSError, struct.error, zlib.error):
        return                                # the reader reports damage in its own words


def _check_hdf5_size(func, path, size, limit):
    """The declared size of every dataset of an HDF5 (MAT v7.3) file, summed before reading."""
    try:
        import h5py
    except ImportError:
        return
    total = 0

    def visit(name, item):
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.dtype.itemsize) * math.prod(int(d) for d in (item.shape or ()))
    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except (OSError, ValueError, RuntimeError):
        return                                # the reader reports damage in its own words
    if total > limit:
        fail(func, f"'{path}' declares more than {limit / 2**30:.1f} GiB of data ({size:,} bytes "
                   f"on disk); lstmkit does not read it (a damaged or hostile file?).",
             MemoryError)
