"""Read and validate a file in a second process while this one appends.

An import spends about as long reading, parsing and validating records as
appending them to the log. With two cores both can run at once: a forked child
runs the stateless part (the importer and :func:`engine.prepare`) and sends its
results in pickled batches through a pipe; the parent keeps everything that
has state (selection, dedup, recordings, the log and its keys are never used
by the child). At most the pipe's 1 MiB and :data:`QUEUED` batches are in
flight, so memory stays bounded whatever the file's size.

The parent takes records in bursts: it reads a batch of 4000, then appends it
and reads nothing for a while. A pipe holds only 1 MiB (about 2,000 texts), so a
child that wrote straight into it would stop as soon as the pipe filled, and the
parent would then wait for the rest of its batch (11 µs per text, measured). The
child therefore parses on its main thread and leaves the writing to a second
thread with a bounded queue of batches (:data:`QUEUED`): blocked in ``write``, that
thread holds no lock, and parsing goes on while the parent appends.

The child ignores Ctrl-C; the parent stops it when reading ends for any reason
(done, an error, an interruption). An error in the child (a file that cannot
be read) is raised again in the parent with its message.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from evidence.errors import EvidenceError, InvalidInput
from evidence.importers.base import ReadContext

T = TypeVar("T")
BATCH = 256  # items per message: large enough to amortise a message, small enough to stream
PIPE_BYTES = 1 << 20  # what may be in flight: about a dozen batches
QUEUED = 32  # batches the child may hold beyond the pipe: at most a few MiB
_MORE, _DONE, _FAILED = 0, 1, 2


def _same(item: Any) -> Any:
    return item


def available() -> bool:
    """Whether a child can be forked here (and there is a second core to run it).

    Linux only: on macOS a forked child may crash in system frameworks the parent
    loaded, and Windows cannot fork; both read in one process.
    """
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


def in_child(
    produce: Callable[[], Iterator[Any]],
    ctx: ReadContext,
    receive: Callable[[Any], T] = _same,
) -> Generator[T, None, None]:
    """``receive(item)`` for each item of ``produce()``, made in a forked child.

    ``produce`` is called in the child only (nothing is pickled to start it); its
    items must pickle (see :class:`evidence.importers.base.Blob`). ``ctx.bytes_read``
    follows the child's. Close the generator when done with it early: that stops
    the child.
    """
    if not available():
        yield from map(receive, produce())
        return
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    _widen(receiver)
    child = fork.Process(target=_child, args=(produce, ctx, sender), daemon=True)
    # Both collectors leave what exists now alone while the file is read: the child's,
    # so that it copies none of the pages it inherits; this one's, so that a full
    # collection does not walk the numbering data again and again (13 of them took
    # 0.8 s of a 200,000-record import). Garbage made meanwhile is collected as usual.
    gc.freeze()
    try:
        child.start()
    except BaseException:
        gc.unfreeze()
        raise
    sender.close()  # the child holds the only writing end: its exit is seen as EOF
    try:
        while True:
            try:
                # From our own forked child over a private pipe, never from a file.
                status, payload, bytes_read = pickle.loads(receiver.recv_bytes())  # noqa: S301
            except EOFError:
                child.join(1)
                raise EvidenceError(
                    f"reading the file stopped unexpectedly (exit code {child.exitcode})"
                ) from None
            ctx.bytes_read = bytes_read
            if status == _FAILED:
                raise payload
            yield from map(receive, payload)
            if status == _DONE:
                return
    finally:
        gc.unfreeze()
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join(5)


def _widen(pipe: Connection) -> None:
    """Let the child run ahead by several batches (Linux pipes hold 64 KiB by default).

    With one batch in flight the two processes took turns instead of working at once.
    """
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if resize is not None:
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep it
            fcntl.fcntl(pipe.fileno(), resize, PIPE_BYTES)


def _child(produce: Callable[[], Iterator[Any]], ctx: ReadContext, sender: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    outbox = _Outbox(sender)

    def send(status: int, payload: Any) -> None:
        outbox.put(pickle.dumps((status, payload, ctx.bytes_read), pickle.HIGHEST_PROTOCOL))

    try:
        batch: list[Any] = []
        for item in produce():
            batch.append(item)
            if len(batch) >= BATCH:
                send(_MORE, batch)
                batch = []
        send(_DONE, batch)
    except (BrokenPipeError, EOFError):  # the parent stopped reading
        pass
    except Exception as error:  # every failure goes back to the parent
        with contextlib.suppress(BrokenPipeError, EOFError):  # unless it stopped reading
            send(_FAILED, _portable(error))
    finally:
        outbox.close()
        sender.close()


class _Outbox:
    """Messages written to the pipe by a thread of their own, in order.

    ``put`` blocks only when :data:`QUEUED` messages wait, and raises
    ``BrokenPipeError`` once the parent has stopped reading.
    """

    def __init__(self, sender: Connection) -> None:
        self._sender = sender
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        self._stopped = threading.Event()
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._writer.start()

    def _write(self) -> None:
        try:
            while (data := self._queue.get()) is not None:
                self._sender.send_bytes(data)
        except Exception:  # noqa: S110 - a broken pipe (the parent stopped reading), or
            pass  # anything else: the parent sees the pipe end and says reading stopped
        finally:  # whatever ended it, nothing more is written: never let ``put`` wait
            self._stopped.set()

    def put(self, data: bytes | None) -> None:
        while not self._stopped.is_set():
            try:
                self._queue.put(data, timeout=0.05)
                return
            except queue.Full:
                continue
        raise BrokenPipeError

    def close(self) -> None:
        """Let everything queued be written (unless the parent stopped reading)."""
        with contextlib.suppress(BrokenPipeError):
            self.put(None)
        self._writer.join()


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else an error with the same message."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    except Exception:
        kind = InvalidInput if isinstance(error, EvidenceError) else RuntimeError
        return kind(str(error))
    return error
