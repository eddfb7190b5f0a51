"""The Isaac Gym worker: dials the bridge, says hello, takes tasks, answers.

asyncio + Debian's ``python3-websockets`` (10.x legacy client API). Each task's bundle is written
to a ``tempfile.TemporaryDirectory`` with every path checked, the backend runs in ONE dedicated
thread (Isaac Gym wants all its calls from the same thread, and the event loop must stay free to
answer pings), progress is forwarded thread-safely, and the directory is removed afterwards.
The connection is re-established with exponential backoff; a wrong token is fatal.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import socket
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Optional

from . import protocol as P

log = logging.getLogger("partrm_isaac")

ProgressFn = Callable[[float, str], None]
CancelledFn = Callable[[], bool]


class WorkerError(Exception):
    def __init__(self, message: str):
        super().__init__("IsaacWorker: " + message)


class TaskCancelled(Exception):
    """Raised by a backend that noticed ``cancelled()``."""


class Backend:
    """What the worker needs from a simulation backend (IsaacGymBackend, or a test double).

    ``run`` is called in the worker's backend thread with the bundle directory, the task spec (a
    dict shaped like SimTaskSpec in src/sim/task.ts), a progress callback and a cancellation
    probe; it returns a dict shaped like SimTaskResult.
    """

    #: Backends announced in hello (see protocol.BACKENDS).
    backends = ("isaacgym",)

    def run(self, bundle_dir: str, spec: Dict[str, Any], progress: ProgressFn, cancelled: CancelledFn) -> Dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class Worker:
    def __init__(
        self,
        url: str,
        token: str,
        backend: Backend,
        name: Optional[str] = None,
        limits: P.Limits = P.DEFAULT_LIMITS,
        reconnect_initial: float = 0.25,
        reconnect_max: float = 10.0,
        max_attempts: Optional[int] = None,
        progress_interval: float = 0.1,
    ):
        if not (url.startswith("ws://") or url.startswith("wss://")):
            raise WorkerError('--connect expects ws://HOST:PORT, got "%s"' % url)
        if not token:
            raise WorkerError("a token is required (--token or $PARTRM_SIM_TOKEN)")
        self.url = url
        self.token = token
        self.backend = backend
        self.name = name or "isaacgym@%s:%d" % (socket.gethostname(), os.getpid())
        self.limits = limits
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.max_attempts = max_attempts
        self.progress_interval = progress_interval
        # One thread for every backend call (Isaac Gym is not thread-agnostic).
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="partrm-backend")
        self._stopped = False
        self._stop_event: Optional[asyncio.Event] = None
        self._current: Dict[str, threading.Event] = {}
        self._server_cancelled: set = set()
        self.stats = {"connections": 0, "tasks_done": 0, "tasks_failed": 0, "tasks_cancelled": 0}

    # --------------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopped = True
        for ev in self._current.values():
            ev.set()
        if self._stop_event is not None:
            self._stop_event.set()

    async def run(self) -> None:
        """Serves until stop(); raises WorkerError on a refused token or too many failed dials."""
        import websockets  # Debian python3-websockets (10.x)

        self._stop_event = asyncio.Event()
        delay = self.reconnect_initial
        failures = 0
        try:
            while not self._stopped:
                outcome: Dict[str, Any] = {"welcomed": False, "why": ""}
                try:
                    async with websockets.connect(self.url, max_size=self.limits.max_frame_bytes, open_timeout=10, close_timeout=2, compression=None) as ws:
                        outcome = await self._session(ws)
                except WorkerError:
                    raise
                except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
                    outcome = {"welcomed": False, "why": "%s: %s" % (type(e).__name__, e)}
                if outcome.get("fatal"):
                    raise WorkerError(outcome["fatal"])
                if self._stopped:
                    break
                if outcome["welcomed"]:
                    failures, delay = 0, self.reconnect_initial
                else:
                    failures += 1
                    if self.max_attempts is not None and failures >= self.max_attempts:
                        raise WorkerError("giving up after %d failed connection attempts: %s" % (failures, outcome["why"]))
                log.warning("IsaacWorker: connection to %s lost (%s); reconnecting in %.2f s", self.url, outcome["why"], delay)
                try:
                    await asyncio.wait_for(self._stop_event.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
                delay = min(self.reconnect_max, delay * 2)
        finally:
            self._pool.shutdown(wait=False)
            try:
                self.backend.close()
            except Exception:  # noqa: BLE001
                log.exception("IsaacWorker: backend close failed")

    async def _session(self, ws: Any) -> Dict[str, Any]:
        self.stats["connections"] += 1
        outcome: Dict[str, Any] = {"welcomed": False, "why": "closed"}
        loop = asyncio.get_running_loop()
        tasks: Dict[str, asyncio.Task] = {}

        async def send(msg: Dict[str, Any]) -> None:
            text = P.serialise_message(msg, self.limits)  # ProtocolError propagates to the caller
            try:
                await ws.send(text)
            except Exception as e:  # noqa: BLE001 - a closed socket: the server re-queues
                log.debug("IsaacWorker: send failed: %s", e)

        await send(P.make_message("hello", token=self.token, worker={"name": self.name}, capabilities={"backends": list(self.backend.backends), "maxParallel": 1}))
        stop_wait = asyncio.ensure_future(self._stop_event.wait())
        try:
            while True:
                recv = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({recv, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if stop_wait in done:
                    recv.cancel()
                    await ws.close(1000, "worker stopping")
                    outcome["why"] = "stopped"
                    break
                try:
                    frame = recv.result()
                except Exception as e:  # ConnectionClosed and friends
                    outcome["why"] = "%s" % e
                    break
                msg, err = P.parse_message(frame, self.limits)
                if err is not None:
                    log.warning("IsaacWorker: skipped a bad message from the server: %s", err)
                    await send(P.error_message(err.code, str(err), err.message_id))
                    continue
                t = msg["type"]
                if t not in P.SERVER_TO_WORKER:
                    await send(P.error_message("unexpected", "a server may not send " + t, msg["id"]))
                elif t == "welcome":
                    outcome["welcomed"] = True
                    log.info('IsaacWorker: "%s" connected to %s at %s', self.name, msg["server"], self.url)
                elif t == "error":
                    log.log(logging.ERROR if msg["fatal"] else logging.WARNING, "IsaacWorker: server says %s: %s", msg["code"], msg["message"])
                    if msg["code"] in ("unauthorized", "hello_required") or (msg["fatal"] and not outcome["welcomed"]):
                        outcome["fatal"] = "server refused this worker: %s: %s" % (msg["code"], msg["message"])
                elif t == "ping":
                    await send(P.make_message("pong", replyTo=msg["id"], time=time.time() * 1000))
                elif t == "cancel":
                    ev = self._current.get(msg["taskId"])
                    if ev is not None:
                        self.stats["tasks_cancelled"] += 1
                        log.info("IsaacWorker: task %s cancelled (%s)", msg["taskId"], msg["reason"])
                        self._server_cancelled.add(msg["taskId"])
                        ev.set()
                elif t == "task":
                    if not outcome["welcomed"]:
                        await send(P.error_message("unexpected", "task before welcome", msg["id"]))
                    elif self._current:
                        await send(P.make_message("task_failed", taskId=msg["taskId"], error="worker is busy", retryable=True))
                    else:
                        cancel = threading.Event()
                        self._current[msg["taskId"]] = cancel
                        tasks[msg["taskId"]] = asyncio.ensure_future(self._run_task(msg, cancel, send, loop))
        finally:
            stop_wait.cancel()
            # Results can no longer be delivered: the server re-queues the task elsewhere.
            for ev in self._current.values():
                ev.set()
            for task in tasks.values():
                task.cancel()
        return outcome

    async def _run_task(self, msg: Dict[str, Any], cancel: threading.Event, send: Callable[[Dict[str, Any]], Any], loop: asyncio.AbstractEventLoop) -> None:
        task_id = msg["taskId"]
        spec = msg["spec"]
        t0 = time.monotonic()
        last_sent = [0.0]
        log.info("IsaacWorker: task %s: %s %s %s joint %s (%d files)", task_id, spec["kind"], spec["task"], spec["urdf"], spec["joint"], len(msg["bundle"]["files"]))

        def progress(fraction: float, message: str) -> None:
            # Called from the backend thread.
            if cancel.is_set():
                return
            f = min(1.0, max(0.0, float(fraction))) if fraction == fraction else 0.0
            now = time.monotonic()
            if now - last_sent[0] < self.progress_interval and f < 1.0:
                return
            last_sent[0] = now
            m = P.make_message("progress", taskId=task_id, fraction=f, message=P.clamp_text(message))
            try:
                asyncio.run_coroutine_threadsafe(send(m), loop)
            except RuntimeError:  # the loop is gone (worker stopping): nothing to report to
                pass

        async def confirm_cancel() -> None:
            # The bridge keeps this worker's slot until it hears the task has stopped.
            if task_id in self._server_cancelled:
                self._server_cancelled.discard(task_id)
                self._current.pop(task_id, None)
                await send(P.make_message("task_failed", taskId=task_id, error="cancelled by the bridge", retryable=False))

        try:
            files = P.decode_bundle(msg["bundle"], self.limits)
            with tempfile.TemporaryDirectory(prefix="partrm-isaac-task-") as tmp:
                P.write_bundle(tmp, files)
                progress(0.0, "bundle received")
                result = await loop.run_in_executor(self._pool, self.backend.run, tmp, spec, progress, cancel.is_set)
            if cancel.is_set():
                await confirm_cancel()
                return
            self._current.pop(task_id, None)
            await send(P.make_message("result", taskId=task_id, result=result))
            self.stats["tasks_done"] += 1
            log.info("IsaacWorker: task %s done in %.1f s (success %.0f%% of %s)", task_id, time.monotonic() - t0, 100 * float(result.get("successRate", 0)), result.get("trials"))
        except asyncio.CancelledError:
            raise
        except TaskCancelled:
            await confirm_cancel()
        except Exception as e:  # noqa: BLE001 - every failure is reported to the bridge
            if cancel.is_set():
                await confirm_cancel()
                return
            self._current.pop(task_id, None)
            self.stats["tasks_failed"] += 1
            text = "%s" % e if str(e) else type(e).__name__
            log.warning("IsaacWorker: task %s failed: %s", task_id, text)
            await send(P.make_message("task_failed", taskId=task_id, error=P.clamp_text(text), retryable=False))
        finally:
            self._current.pop(task_id, None)
            self._server_cancelled.discard(task_id)
