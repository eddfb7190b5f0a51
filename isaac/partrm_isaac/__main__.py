"""``python3 -m partrm_isaac --connect ws://HOST:PORT --token T`` (see isaac/README.md)."""
from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from typing import Any, Dict, List, Optional

from .worker import Backend, Worker, WorkerError

DEFAULT_BACKEND = "partrm_isaac.gym_backend:IsaacGymBackend"


def load_backend(spec: str, options: Dict[str, Any]) -> Backend:
    """``module:Class`` or ``module`` (whose ``Backend`` attribute is used); instantiated with options."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise WorkerError('cannot import backend module "%s": %s' % (module_name, e))
    cls = getattr(module, attr or "Backend", None)
    if cls is None:
        raise WorkerError('backend module "%s" has no "%s"' % (module_name, attr or "Backend"))
    return cls(**options)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 -m partrm_isaac", description="Isaac Gym simulation worker for the PartRM bridge")
    p.add_argument("--connect", required=True, metavar="URL", help="the bridge, ws://HOST:PORT")
    p.add_argument("--token", default=None, help="the bridge token (default: $PARTRM_SIM_TOKEN)")
    p.add_argument("--name", default=None, help="worker name shown in the bridge log")
    p.add_argument("--backend", default=DEFAULT_BACKEND, metavar="MODULE[:CLASS]", help="simulation backend (default: %(default)s)")
    p.add_argument("--device", default="cuda:0", help="Isaac Gym compute device (default: %(default)s)")
    p.add_argument("--graphics-device", type=int, default=-1, help="graphics device id; -1 = headless (default)")
    p.add_argument("--num-envs", type=int, default=0, help="parallel environments per rollout batch (0 = one per trial/candidate)")
    p.add_argument("--franka", default=None, metavar="URDF", help="Franka Panda URDF when the bundle has none (default: Isaac Gym's franka_description)")
    p.add_argument("--max-retries", type=int, default=None, help="give up after this many failed connection attempts in a row")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(asctime)s %(levelname)s: %(message)s", stream=sys.stderr)
    token = args.token or os.environ.get("PARTRM_SIM_TOKEN", "")
    try:
        options: Dict[str, Any] = {"device": args.device, "graphics_device": args.graphics_device, "num_envs": args.num_envs}
        if args.franka:
            options["franka_urdf"] = args.franka
        backend = load_backend(args.backend, options)
        worker = Worker(args.connect, token, backend, name=args.name, max_attempts=args.max_retries)
    except WorkerError as e:
        print(str(e), file=sys.stderr)
        return 2

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, worker.stop)
            except (NotImplementedError, RuntimeError):
                pass
        await worker.run()

    try:
        asyncio.run(run())
    except WorkerError as e:
        print(str(e), file=sys.stderr)
        return 1
    s = worker.stats
    logging.getLogger("partrm_isaac").info("IsaacWorker: stopped after %d task(s) done, %d failed, %d connection(s)", s["tasks_done"], s["tasks_failed"], s["connections"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
