"""Unit tests of partrm_isaac.protocol (run: PYTHONPATH=isaac python3 -m unittest discover -s isaac/tests -t isaac)."""
import base64
import json
import os
import tempfile
import unittest

from partrm_isaac import protocol as P


def b64(s):
    return base64.b64encode(s.encode()).decode()


SPEC = {"kind": "evaluate", "urdf": "urdf/object.urdf", "joint": "joint_0", "task": "drawer", "trials": 3, "seed": 1}
FILES = [
    {"path": "urdf/object.urdf", "data": b64('<robot name="x"/>')},
    {"path": "urdf/meshes/base.obj", "data": b64("v 0 0 0\n"), "sha256": P.sha256_hex(b"v 0 0 0\n")},
]
ENV = {"protocol": 1, "id": "m1"}
VALID = [
    dict(ENV, type="hello", token="s", worker={"name": "w"}, capabilities={"backends": ["isaacgym"], "maxParallel": 1}),
    dict(ENV, type="welcome", replyTo="x", server="bridge", heartbeatMs=5000, limits={"maxFrameBytes": 10, "maxBundleBytes": 10, "maxFiles": 1}),
    dict(ENV, type="error", code="bad_json", message="nope", fatal=False),
    dict(ENV, type="task", taskId="t1", bundle={"files": FILES}, spec=SPEC),
    dict(ENV, type="task", taskId="t2", backend="isaacgym", bundle={"files": FILES}, spec=dict(SPEC, kind="train", budget={"iterations": 2, "population": 4}, policy={"version": 1})),
    dict(ENV, type="progress", taskId="t1", fraction=0.5, message="half"),
    dict(ENV, type="result", taskId="t1", result={"kind": "evaluate", "successRate": 1, "trials": 2, "finalStates": [0.3, 0.31], "trajectory": {"t": [0, 1], "joint": [0, 0.3]}}),
    dict(ENV, type="task_failed", taskId="t1", error="boom", retryable=False),
    dict(ENV, type="cancel", taskId="t1", reason="user"),
    dict(ENV, type="ping", time=1),
    dict(ENV, type="pong", replyTo="p", time=2.5),
]


def task_with(files=None, **over):
    m = dict(VALID[3], **over)
    if files is not None:
        m["bundle"] = {"files": files}
    return json.dumps(m)


SMALL = P.Limits(max_frame_bytes=4096, max_bundle_bytes=1024, max_files=4)
BAD = [
    ("not JSON", '{"type":', "bad_json", None),
    ("NaN literal", '{"protocol":1,"type":"ping","id":"x","time":NaN}', "bad_json", None),
    ("array", "[1]", "bad_message", None),
    ("no protocol", json.dumps({"type": "ping", "id": "x", "time": 1}), "unsupported_protocol", None),
    ("protocol true", json.dumps({"protocol": True, "type": "ping", "id": "x", "time": 1}), "unsupported_protocol", None),
    ("unknown type", json.dumps(dict(ENV, type="rm -rf")), "bad_message", None),
    ("no id", json.dumps({"protocol": 1, "type": "ping", "time": 1}), "bad_message", None),
    ("infinite time", '{"protocol":1,"type":"ping","id":"x","time":1e999}', "bad_message", None),
    ("fraction > 1", json.dumps(dict(VALID[5], fraction=2)), "bad_message", None),
    ("bool as int", json.dumps(dict(VALID[0], capabilities={"backends": ["isaacgym"], "maxParallel": True})), "bad_message", None),
    ("unknown backend", json.dumps(dict(VALID[0], capabilities={"backends": ["physx"], "maxParallel": 1})), "bad_message", None),
    ("../ path", task_with(FILES + [{"path": "../x", "data": b64("x")}]), "bad_path", None),
    ("absolute path", task_with(FILES + [{"path": "/etc/passwd", "data": b64("x")}]), "bad_path", None),
    ("nested escape", task_with(FILES + [{"path": "a/../../x", "data": b64("x")}]), "bad_path", None),
    ("backslash", task_with(FILES + [{"path": "a\\b", "data": b64("x")}]), "bad_path", None),
    ("duplicate", task_with(FILES + [FILES[0]]), "bad_path", None),
    ("spec urdf escapes", task_with(spec=dict(SPEC, urdf="../o.urdf")), "bad_path", None),
    ("urdf not in bundle", task_with(spec=dict(SPEC, urdf="other.urdf")), "bad_message", None),
    ("bad base64", task_with(FILES + [{"path": "x", "data": "@@@@"}]), "bad_message", None),
    ("frame too large", json.dumps(dict(VALID[9], pad="x" * 5000)), "frame_too_large", SMALL),
    ("too many files", task_with(FILES + [{"path": "f%d" % i, "data": b64("x")} for i in range(4)]), "bundle_too_large", SMALL),
    ("bundle too large", task_with(FILES + [{"path": "big", "data": "A" * 2000}]), "bundle_too_large", P.Limits(8192, 1024, 4)),
]


class ProtocolTest(unittest.TestCase):
    def test_valid_messages_round_trip(self):
        for m in VALID:
            text = P.serialise_message(m)
            parsed, err = P.parse_message(text)
            self.assertIsNone(err, "%s: %s" % (m["type"], err))
            self.assertEqual(parsed, m)

    def test_bad_frames_get_the_right_code(self):
        for name, frame, code, limits in BAD:
            parsed, err = P.parse_message(frame, limits or P.DEFAULT_LIMITS)
            self.assertIsNone(parsed, name)
            self.assertEqual(err.code, code, "%s: %s" % (name, err))
            self.assertTrue(str(err).startswith("SimProtocol: "), name)

    def test_bytes_frames_and_non_utf8(self):
        parsed, err = P.parse_message(json.dumps(VALID[9]).encode())
        self.assertIsNone(err)
        parsed, err = P.parse_message(b"\xff\xfe\x00")
        self.assertEqual(err.code, "bad_json")

    def test_path_rules(self):
        table = [("object.urdf", True), ("a/b/c.obj", True), ("a..b", True), ("..", False), ("../x", False), ("a/./b", False),
                 ("/abs", False), ("C:x", False), ("a\\b", False), ("a//b", False), ("", False), ("x" * 600, False), ("a\x00b", False)]
        for p, ok in table:
            self.assertEqual(P.bundle_path_problem(p) is None, ok, p)

    def test_serialise_refuses_invalid_messages(self):
        with self.assertRaises(P.ProtocolError):
            P.serialise_message(P.make_message("progress", taskId="t", fraction=2.0, message=""))
        with self.assertRaises(P.ProtocolError):
            P.serialise_message(P.make_message("result", taskId="t", result={"kind": "evaluate", "successRate": float("nan"), "trials": 1, "finalStates": []}))

    def test_decode_and_write_bundle(self):
        msg, err = P.parse_message(json.dumps(VALID[3]))
        self.assertIsNone(err)
        files = P.decode_bundle(msg["bundle"])
        with tempfile.TemporaryDirectory() as d:
            P.write_bundle(d, files)
            with open(os.path.join(d, "urdf", "meshes", "base.obj"), "rb") as fh:
                self.assertEqual(fh.read(), b"v 0 0 0\n")
            for bad in ("../escape", "/tmp/abs", "a/../../x"):
                with self.assertRaises(P.BundleError):
                    P.write_bundle(d, [(bad, b"x")])
            self.assertFalse(os.path.exists(os.path.join(os.path.dirname(d), "escape")))
            # A symlink planted inside the directory cannot redirect writes outside it.
            outside = tempfile.mkdtemp()
            try:
                os.symlink(outside, os.path.join(d, "link"))
                with self.assertRaises(P.BundleError):
                    P.write_bundle(d, [("link/x", b"x")])
                self.assertEqual(os.listdir(outside), [])
            finally:
                os.rmdir(outside)
        tampered = {"files": [dict(FILES[1], data=b64("evil"))]}
        with self.assertRaises(P.BundleError):
            P.decode_bundle(tampered)

    def test_error_message_is_valid_even_for_long_text(self):
        m = P.error_message("bad_message", "x" * 10000, reply_to="r")
        P.serialise_message(m)


if __name__ == "__main__":
    unittest.main()
