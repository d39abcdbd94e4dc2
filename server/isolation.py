"""Runs work on untrusted uploads in a child process with a time and a memory limit.

A crafted file can make a parser slow or hungry in ways no single check foresees; in a child,
the server stops it after `timeout_s` and the operating system stops it at `memory_bytes`
more than it started with, and the server's own process never holds the upload's objects.
Children fork from a forkserver that has imported the converter once, so a conversion starts
in milliseconds, not the second an interpreter needs to import NumPy and webkeras. As with any
forkserver (Python 3.14's default on Linux), each child imports the program's main module as
`__mp_main__`: a script that creates the app must keep its start-up under
`if __name__ == "__main__":` (`webkeras serve`, gunicorn and `flask run` do).
"""

import multiprocessing
import resource
import traceback

from webkeras.saving.conversion.uploads import UploadError

# Imported once by the forkserver, so every child starts with them loaded.
PRELOAD = ["webkeras.saving.conversion.jobs"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


class LimitExceeded(Exception):
    """The child ran past its time or memory limit; the message says which."""


def _address_space():
    """Bytes of address space this process has mapped now (Linux), else 0."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(connection, function, args, memory_bytes):
    if memory_bytes:
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        connection.send(("ok", function(*args)))
    except UploadError as error:
        connection.send(("upload-error", (str(error), error.status)))
    except MemoryError:
        connection.send(("memory", None))
    except BaseException:  # noqa: BLE001  (reported to the parent, which logs it)
        connection.send(("crash", traceback.format_exc(limit=20)))
    finally:
        connection.close()


def run(function, args, timeout_s, memory_bytes):
    """`function(*args)` in a child process; its result, or its UploadError re-raised.

    Args:
        function: a module-level function (it is pickled by name).
        args: its arguments (pickled: bytes, dataclasses).
        timeout_s: wall-clock seconds before the child is killed.
        memory_bytes: address space the child may add to what it starts with (0: no limit).

    Raises:
        UploadError: what the function raised.
        LimitExceeded: the child ran out of time or memory.
        RuntimeError: the child failed otherwise (its traceback in the message, for logs).
    """
    receiver, sender = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(sender, function, args, memory_bytes),
                             daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise LimitExceeded(f"it took longer than {timeout_s:g} s")
        try:
            kind, value = receiver.recv()
        except EOFError:
            # Killed without a word: by the kernel over its memory, or from outside.
            raise LimitExceeded("its process was killed, most likely needing more than "
                                f"{memory_bytes:,} bytes of memory") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if kind == "ok":
        return value
    if kind == "upload-error":
        raise UploadError(value[0], status=value[1])
    if kind == "memory":
        raise LimitExceeded(f"it needed more than {memory_bytes:,} bytes of memory")
    raise RuntimeError(f"conversion child failed:\n{value}")
