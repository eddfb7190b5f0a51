"""The simulation WebSocket protocol, mirroring src/sim/protocol.ts (keep the two in step).

JSON text frames, ``protocol: 1``, every message has ``protocol``, ``type`` and ``id``::

    worker -> server   hello {token, worker: {name}, capabilities: {backends, maxParallel}}
    server -> worker   welcome {heartbeatMs, limits} | error {code, message, fatal}
    server -> worker   task {taskId, bundle: {files: [{path, data (base64), sha256?}]}, spec}
    worker -> server   progress {taskId, fraction, message}
    worker -> server   result {taskId, result} | task_failed {taskId, error, retryable}
    server -> worker   cancel {taskId, reason}
    either way         ping {time} / pong {replyTo, time}

:func:`parse_message` never raises: it returns ``(message, None)`` or ``(None, ProtocolError)``.
Pure standard library (no Isaac Gym, no numpy).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = 48 * 1024 * 1024
    max_bundle_bytes: int = 32 * 1024 * 1024
    max_files: int = 4096


DEFAULT_LIMITS = Limits()
MAX_PATH_CHARS = 512
MAX_TEXT_CHARS = 4096
MAX_ID_CHARS = 128
BACKENDS = ("mujoco", "isaacgym")
MESSAGE_TYPES = ("hello", "welcome", "error", "task", "progress", "result", "task_failed", "cancel", "ping", "pong")
SERVER_TO_WORKER = frozenset(("welcome", "error", "task", "cancel", "ping", "pong"))
WORKER_TO_SERVER = frozenset(("hello", "error", "progress", "result", "task_failed", "ping", "pong"))
ERROR_CODES = (
    "bad_json",
    "bad_message",
    "unsupported_protocol",
    "frame_too_large",
    "bundle_too_large",
    "bad_path",
    "unauthorized",
    "hello_required",
    "unexpected",
    "unknown_task",
    "server_closing",
)


class ProtocolError(Exception):
    """A protocol violation: ``code`` is one of :data:`ERROR_CODES`."""

    def __init__(self, code: str, message: str, message_id: Optional[str] = None):
        super().__init__("SimProtocol: " + message)
        self.code = code
        self.message_id = message_id


class _Invalid(Exception):
    def __init__(self, where: str, message: str, code: str = "bad_message"):
        super().__init__(message)
        self.where = where
        self.code = code


# ------------------------------------------------------------------------------------------------
# Paths and data


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def bundle_path_problem(path: Any) -> Optional[str]:
    """Why a bundle path is unacceptable, or None (same rules as bundlePathProblem in protocol.ts)."""
    if not isinstance(path, str):
        return "is not a string"
    if path == "":
        return "is empty"
    if len(path) > MAX_PATH_CHARS:
        return "is longer than %d characters" % MAX_PATH_CHARS
    if _CONTROL.search(path):
        return "contains control characters"
    if "\\" in path:
        return "contains a backslash (use forward slashes)"
    if path.startswith("/"):
        return "is absolute (bundle paths are relative)"
    if _DRIVE.match(path):
        return "starts with a drive letter (bundle paths are relative)"
    for seg in path.split("/"):
        if seg == "":
            return "has an empty segment"
        if seg in (".", ".."):
            return 'has a "%s" segment (bundle paths may not leave the bundle)' % seg
    return None


def base64_decoded_length(text: str) -> Optional[int]:
    """Decoded length of standard padded base64, or None when ``text`` is not base64."""
    if not isinstance(text, str) or len(text) % 4 != 0 or not _BASE64.match(text):
        return None
    pad = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return len(text) // 4 * 3 - pad


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------
# Field checks


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _obj(v: Any, where: str) -> Dict[str, Any]:
    if not isinstance(v, dict):
        raise _Invalid(where, "expected an object")
    return v


def _str(o: Dict[str, Any], key: str, where: str, min_len: int = 0, max_len: int = MAX_TEXT_CHARS, optional: bool = False) -> None:
    if key not in o and optional:
        return
    v = o.get(key)
    if not isinstance(v, str):
        raise _Invalid(where + key, "expected a string")
    if len(v) < min_len:
        raise _Invalid(where + key, "too short")
    if len(v) > max_len:
        raise _Invalid(where + key, "longer than %d characters" % max_len)


def _int(o: Dict[str, Any], key: str, where: str, lo: Optional[int] = None, hi: Optional[int] = None, optional: bool = False) -> None:
    if key not in o and optional:
        return
    v = o.get(key)
    if not _is_int(v):
        raise _Invalid(where + key, "expected an integer")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _Invalid(where + key, "out of range [%s, %s]" % (lo, hi))


def _num(o: Dict[str, Any], key: str, where: str, lo: Optional[float] = None, hi: Optional[float] = None) -> None:
    v = o.get(key)
    if not _is_num(v):
        raise _Invalid(where + key, "expected a finite number")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _Invalid(where + key, "out of range [%s, %s]" % (lo, hi))


def _enum(o: Dict[str, Any], key: str, where: str, values: Tuple[str, ...], optional: bool = False) -> None:
    if key not in o and optional:
        return
    if o.get(key) not in values:
        raise _Invalid(where + key, "expected one of " + ", ".join(values))


def _bool(o: Dict[str, Any], key: str, where: str) -> None:
    if not isinstance(o.get(key), bool):
        raise _Invalid(where + key, "expected a boolean")


def _path(o: Dict[str, Any], key: str, where: str) -> None:
    why = bundle_path_problem(o.get(key))
    if why:
        shown = o.get(key) if isinstance(o.get(key), str) else repr(o.get(key))
        raise _Invalid(where + key, 'bad path "%s": %s' % (str(shown)[:80], why), "bad_path")


def _num_list(v: Any, where: str) -> None:
    if not isinstance(v, list) or not all(_is_num(x) for x in v):
        raise _Invalid(where, "expected an array of finite numbers")


def _check_spec(spec: Any, where: str) -> None:
    s = _obj(spec, where)
    _enum(s, "kind", where + ".", ("evaluate", "train"))
    _path(s, "urdf", where + ".")
    _str(s, "joint", where + ".", 1, 256)
    _enum(s, "task", where + ".", ("drawer", "door"))
    if "policy" in s:
        _obj(s["policy"], where + ".policy")
    _int(s, "trials", where + ".", 1, 100000, optional=True)
    if "budget" in s:
        b = _obj(s["budget"], where + ".budget")
        _int(b, "iterations", where + ".budget.", 1, 100000)
        _int(b, "population", where + ".budget.", 1, 100000)
    _int(s, "seed", where + ".", optional=True)


def _check_result(result: Any, where: str) -> None:
    r = _obj(result, where)
    _enum(r, "kind", where + ".", ("evaluate", "train"))
    _num(r, "successRate", where + ".", 0, 1)
    _int(r, "trials", where + ".", 0)
    _num_list(r.get("finalStates"), where + ".finalStates")
    if "policy" in r:
        _obj(r["policy"], where + ".policy")
    if "trajectory" in r:
        t = _obj(r["trajectory"], where + ".trajectory")
        _num_list(t.get("t"), where + ".trajectory.t")
        _num_list(t.get("joint"), where + ".trajectory.joint")


def _check_bundle(bundle: Any, limits: Limits) -> None:
    b = _obj(bundle, "task.bundle")
    files = b.get("files")
    if not isinstance(files, list):
        raise _Invalid("task.bundle.files", "expected an array")
    if len(files) > limits.max_files:
        raise _Invalid("task.bundle", "has %d files, the limit is %d" % (len(files), limits.max_files), "bundle_too_large")
    total = sum(len(f.get("data", "")) * 3 // 4 for f in files if isinstance(f, dict) and isinstance(f.get("data"), str))
    if total > limits.max_bundle_bytes:
        raise _Invalid("task.bundle", "holds about %d bytes, the limit is %d bytes" % (total, limits.max_bundle_bytes), "bundle_too_large")
    if len(files) == 0:
        raise _Invalid("task.bundle.files", "is empty")
    seen = set()
    for i, f in enumerate(files):
        w = "task.bundle.files[%d]." % i
        f = _obj(f, w[:-1])
        _path(f, "path", w)
        if base64_decoded_length(f.get("data")) is None:
            raise _Invalid(w + "data", "data is not standard padded base64")
        if "sha256" in f and (not isinstance(f["sha256"], str) or not _SHA256.match(f["sha256"])):
            raise _Invalid(w + "sha256", "sha256 must be 64 lowercase hex digits")
        if f["path"] in seen:
            raise _Invalid("task.bundle", 'duplicate path "%s"' % f["path"], "bad_path")
        seen.add(f["path"])


def _check(msg: Dict[str, Any], limits: Limits) -> None:
    t = msg["type"]
    w = t + "."
    if t == "hello":
        _str(msg, "token", w, 0, 1024)
        worker = _obj(msg.get("worker"), w + "worker")
        _str(worker, "name", w + "worker.", 1, 256)
        caps = _obj(msg.get("capabilities"), w + "capabilities")
        backends = caps.get("backends")
        if not isinstance(backends, list) or not backends or not all(b in BACKENDS for b in backends):
            raise _Invalid(w + "capabilities.backends", "expected a non-empty array of " + ", ".join(BACKENDS))
        _int(caps, "maxParallel", w + "capabilities.", 1, 1024)
    elif t == "welcome":
        _str(msg, "replyTo", w, 1, MAX_ID_CHARS)
        _str(msg, "server", w, 0, 256)
        _int(msg, "heartbeatMs", w, 1)
        lim = _obj(msg.get("limits"), w + "limits")
        for k in ("maxFrameBytes", "maxBundleBytes", "maxFiles"):
            _int(lim, k, w + "limits.", 1)
    elif t == "error":
        _str(msg, "replyTo", w, 1, MAX_ID_CHARS, optional=True)
        _enum(msg, "code", w, ERROR_CODES)
        _str(msg, "message", w)
        _bool(msg, "fatal", w)
    elif t == "task":
        _str(msg, "taskId", w, 1, MAX_ID_CHARS)
        _enum(msg, "backend", w, BACKENDS, optional=True)
        _check_bundle(msg.get("bundle"), limits)
        _check_spec(msg.get("spec"), "task.spec")
        if msg["spec"]["urdf"] not in {f["path"] for f in msg["bundle"]["files"]}:
            raise _Invalid("task.spec.urdf", '"%s" is not in the bundle' % msg["spec"]["urdf"])
    elif t == "progress":
        _str(msg, "taskId", w, 1, MAX_ID_CHARS)
        _num(msg, "fraction", w, 0, 1)
        _str(msg, "message", w)
    elif t == "result":
        _str(msg, "taskId", w, 1, MAX_ID_CHARS)
        _check_result(msg.get("result"), "result.result")
    elif t == "task_failed":
        _str(msg, "taskId", w, 1, MAX_ID_CHARS)
        _str(msg, "error", w)
        _bool(msg, "retryable", w)
    elif t == "cancel":
        _str(msg, "taskId", w, 1, MAX_ID_CHARS)
        _str(msg, "reason", w)
    elif t == "ping":
        _num(msg, "time", w)
    elif t == "pong":
        _str(msg, "replyTo", w, 1, MAX_ID_CHARS)
        _num(msg, "time", w)


# ------------------------------------------------------------------------------------------------
# Parse / serialise


def _reject_constant(name: str) -> Any:
    raise ValueError("%s is not JSON" % name)


def parse_message(frame: Any, limits: Limits = DEFAULT_LIMITS) -> Tuple[Optional[Dict[str, Any]], Optional[ProtocolError]]:
    """Parses one received frame (str or bytes). Never raises."""
    try:
        raw_bytes = frame.encode("utf-8") if isinstance(frame, str) else bytes(frame)
    except Exception as e:  # noqa: BLE001 - surrogates and odd types
        return None, ProtocolError("bad_json", "frame is not UTF-8 text (%s)" % e)
    if len(raw_bytes) > limits.max_frame_bytes:
        return None, ProtocolError("frame_too_large", "frame of %d bytes exceeds the limit of %d bytes" % (len(raw_bytes), limits.max_frame_bytes))
    try:
        obj = json.loads(raw_bytes.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        return None, ProtocolError("bad_json", "frame is not JSON (%s)" % e)
    if not isinstance(obj, dict):
        return None, ProtocolError("bad_message", "message must be a JSON object, got %s" % type(obj).__name__)
    mid = obj.get("id") if isinstance(obj.get("id"), str) and 0 < len(obj.get("id")) <= MAX_ID_CHARS else None
    if not (_is_int(obj.get("protocol")) and obj.get("protocol") == PROTOCOL_VERSION):
        return None, ProtocolError("unsupported_protocol", 'expected "protocol": %d, got %s' % (PROTOCOL_VERSION, json.dumps(obj.get("protocol"))[:40]), mid)
    if obj.get("type") not in MESSAGE_TYPES:
        return None, ProtocolError("bad_message", '"type" must be one of %s, got %s' % (", ".join(MESSAGE_TYPES), json.dumps(obj.get("type"))[:40]), mid)
    if mid is None:
        return None, ProtocolError("bad_message", "%s.id: expected a string of 1..%d characters" % (obj["type"], MAX_ID_CHARS))
    try:
        _check(obj, limits)
    except _Invalid as e:
        return None, ProtocolError(e.code, "%s: %s" % (e.where, e), mid)
    return obj, None


_ids = itertools.count(1)
_prefix = os.urandom(3).hex()


def next_id(prefix: str = "m") -> str:
    return "%s-py%s-%d" % (prefix, _prefix, next(_ids))


def make_message(type_: str, **fields: Any) -> Dict[str, Any]:
    """A message with ``protocol``, ``type`` and a fresh ``id`` (unless ``id`` is given)."""
    msg: Dict[str, Any] = {"protocol": PROTOCOL_VERSION, "type": type_, "id": fields.pop("id", None) or next_id(type_)}
    msg.update(fields)
    return msg


def serialise_message(msg: Dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> str:
    """JSON text for a message; raises ProtocolError if the message breaks its own schema."""
    try:
        text = json.dumps(msg, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ProtocolError("bad_message", "refusing to send an invalid %s: %s" % (msg.get("type"), e), msg.get("id"))
    parsed, err = parse_message(text, Limits(max_frame_bytes=max(limits.max_frame_bytes, len(text) * 4 + 16), max_bundle_bytes=limits.max_bundle_bytes, max_files=limits.max_files))
    if err is not None:
        raise ProtocolError(err.code, "refusing to send an invalid %s: %s" % (msg.get("type"), str(err)[len("SimProtocol: "):]), msg.get("id"))
    return text


def clamp_text(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 3] + "..."


def error_message(code: str, message: str, reply_to: Optional[str] = None, fatal: bool = False) -> Dict[str, Any]:
    fields: Dict[str, Any] = {"code": code, "message": clamp_text(message), "fatal": fatal}
    if reply_to:
        fields["replyTo"] = reply_to
    return make_message("error", **fields)


# ------------------------------------------------------------------------------------------------
# Bundles


class BundleError(Exception):
    def __init__(self, message: str):
        super().__init__("SimBundle: " + message)


def decode_bundle(bundle: Dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> List[Tuple[str, bytes]]:
    """(path, bytes) pairs of a schema-checked bundle; verifies base64, sha256, paths and size."""
    out: List[Tuple[str, bytes]] = []
    total = 0
    for f in bundle["files"]:
        path = f["path"]
        why = bundle_path_problem(path)
        if why:
            raise BundleError('path "%s" %s' % (path, why))
        try:
            data = base64.b64decode(f["data"], validate=True)
        except (binascii.Error, ValueError):
            raise BundleError('file "%s" is not base64' % path)
        if "sha256" in f and sha256_hex(data) != f["sha256"]:
            raise BundleError('file "%s" fails its sha256 check' % path)
        total += len(data)
        if total > limits.max_bundle_bytes:
            raise BundleError("bundle exceeds %d bytes" % limits.max_bundle_bytes)
        out.append((path, data))
    return out


def write_bundle(root: str, files: List[Tuple[str, bytes]]) -> None:
    """Writes files under ``root`` (fresh, empty); every target must resolve inside ``root``."""
    real_root = os.path.realpath(root)
    for path, data in files:
        why = bundle_path_problem(path)
        if why:
            raise BundleError('path "%s" %s' % (path, why))
        target = os.path.realpath(os.path.join(real_root, *path.split("/")))
        if target == real_root or os.path.commonpath([real_root, target]) != real_root:
            raise BundleError('path "%s" resolves outside %s' % (path, real_root))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        parent = os.path.realpath(os.path.dirname(target))
        if os.path.commonpath([real_root, parent]) != real_root:
            raise BundleError('path "%s" resolves outside %s' % (path, real_root))
        tmp = "%s.partial-%d" % (target, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
