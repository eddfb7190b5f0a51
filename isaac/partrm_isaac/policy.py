"""The opening-policy semantics of src/policy (geometry.ts, rollout.ts, train.ts, derive.ts) and the
damped-least-squares IK of src/sim/mujoco/ik.ts, in numpy, for the Isaac Gym backend.

Pure math, no Isaac Gym: a policy (the JSON object of policy.json, see src/policy/types.ts) gives
the grasp frame at the closed state, the opening trajectory (a line along the axis for prismatic
joints, an arc about the axis for revolute ones) and the phase schedule of an episode:

    reach (to the pre-grasp, ``standoff`` behind the handle) -> approach -> close the gripper
    -> follow the trajectory at ``speed`` to the open state + ``overshoot`` -> hold

Until the pull, the grasp targets follow the observed object joint value (``command(...,
joint_value)``), and the pull starts from the value observed when it begins.
End-effector targets become joint targets by one DLS step per control tick,
``dq = J^T (J J^T + lambda^2 I)^-1 e`` with lambda = 0.05 (orientation error weighted by
PULL_ROT_WEIGHT while a revolute part is held), plus a null-space pull to the rest posture,
clipped to 0.08 rad per tick (as in rollout.ts). 4x4 matrices are numpy arrays.
Frames and units: world = object URDF root frame, z up, metres, radians.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

IK_LAMBDA = 0.05
SUCCESS_FRACTION = 0.9
START_FRACTION = 0.2
CONTROL_DT = 0.01
T_REACH, T_APPROACH, T_CLOSE, T_HOLD = 1.0, 0.85, 0.35, 0.4
MAX_STEP = 0.08
NULL_GAIN = 0.02
# Orientation weight of the IK error while a revolute part is held (rollout.ts PULL_ROT_WEIGHT):
# the grip pivots about the handle bar, so the handle position has priority along long door arcs.
PULL_ROT_WEIGHT = 0.3

PARAM_KEYS = ("graspDepth", "graspLateral", "graspVertical", "standoff", "speed", "gripClosure", "overshoot", "arcRadiusScale", "wristFollow", "approachPitch")


def default_params(joint_type: str) -> Dict[str, float]:
    prismatic = joint_type == "prismatic"
    return {
        "graspDepth": 0.0,
        "graspLateral": 0.0,
        "graspVertical": 0.0,
        "standoff": 0.1,
        "speed": 0.15 if prismatic else 0.5,
        "gripClosure": 0.0,
        "overshoot": 0.08,
        "arcRadiusScale": 1.0,
        "wristFollow": 1.0 if prismatic else 0.6,
        "approachPitch": 0.0 if prismatic else 0.45,
    }


def param_ranges(joint_type: str) -> Dict[str, Tuple[float, float]]:
    prismatic = joint_type == "prismatic"
    return {
        "graspDepth": (-0.015, 0.02),
        "graspLateral": (-0.015, 0.015),
        "graspVertical": (-0.01, 0.01),
        "standoff": (0.05, 0.15),
        "speed": (0.05, 0.35) if prismatic else (0.2, 1.0),
        "gripClosure": (0.0, 0.004),
        "overshoot": (0.0, 0.25),
        "arcRadiusScale": (1.0, 1.0) if prismatic else (0.85, 1.05),
        "wristFollow": (1.0, 1.0) if prismatic else (0.2, 1.0),
        "approachPitch": (0.0, 0.3) if prismatic else (0.0, 0.9),
    }


def params_of(policy: Dict[str, Any]) -> Dict[str, float]:
    """The policy's params with defaults for fields older policies lack."""
    p = default_params(policy["joint"]["type"])
    p.update({k: float(v) for k, v in policy.get("params", {}).items() if isinstance(v, (int, float))})
    return p


# ------------------------------------------------------------------------------------------------
# Geometry


def _unit(v: Sequence[float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    n = np.linalg.norm(a)
    return a / n if n > 0 else a


def translation(t: Sequence[float]) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = t
    return m


def axis_angle(axis: Sequence[float], angle: float) -> np.ndarray:
    """Rotation about a unit axis through the origin (Rodrigues), as a 4x4."""
    k = _unit(axis)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    m = np.eye(4)
    m[:3, :3] = np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * (K @ K)
    return m


def opening_range(lower: float, upper: float) -> Tuple[float, float, int]:
    """(closed, open, sign): the limit nearest zero is taken as closed."""
    sign = 1 if abs(upper) >= abs(lower) else -1
    return (lower, upper, 1) if sign > 0 else (upper, lower, -1)


def policy_joint_value(policy: Dict[str, Any], fraction: float) -> float:
    lo, hi = policy["joint"]["limits"]
    closed, open_, _ = opening_range(lo, hi)
    return closed + fraction * (open_ - closed)


def part_motion(policy: Dict[str, Any], dq: float) -> np.ndarray:
    j = policy["joint"]
    axis = _unit(j["axis"])
    if j["type"] == "prismatic":
        return translation(axis * dq)
    o = np.asarray(j["origin"], dtype=float)
    return translation(o) @ axis_angle(axis, dq) @ translation(-o)


def grasp_frame(policy: Dict[str, Any], flip: bool = False) -> np.ndarray:
    """TCP frame at the grasp, closed state: z = approach (pitched down), y = finger closing direction."""
    p = params_of(policy)
    z = _unit(policy["approach"])
    pitch = p.get("approachPitch", 0.0)
    if pitch != 0 and abs(z[2]) < 0.7:
        r = _unit(np.cross(z, [0, 0, 1]))
        rz = np.cross(r, z)
        z = _unit(z * math.cos(pitch) - rz * math.sin(pitch))
    y = np.cross(np.asarray(policy.get("handleAxis", [0, 0, 1]), dtype=float), z)
    if np.linalg.norm(y) > 1e-6:
        y = _unit(y)
    else:
        y = _unit(np.cross(z, [0, 0, 1] if abs(z[2]) < 0.9 else [1, 0, 0]))
    if flip:
        y = -y
    x = np.cross(y, z)
    up = np.array([0.0, 0.0, 1.0])
    vertical = up - z * float(up @ z)
    vdir = _unit(vertical) if np.linalg.norm(vertical) > 1e-3 else x
    lateral = np.cross(z, vdir)
    pos = np.asarray(policy["grasp"], dtype=float) + z * p["graspDepth"] + lateral * p["graspLateral"] + vdir * p["graspVertical"]
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, pos
    return m


def opening_frame(policy: Dict[str, Any], frame0: np.ndarray, q: float, q_start: float) -> np.ndarray:
    """Gripper frame while opening: frame0 moved by the part motion to q (revolute: radius scaled, wrist follow)."""
    p = params_of(policy)
    j = policy["joint"]
    f0 = frame0
    if j["type"] == "revolute" and p["arcRadiusScale"] != 1:
        k = 1 + (p["arcRadiusScale"] - 1) * min(1.0, abs(q - q_start) / 0.3)
        axis = _unit(j["axis"])
        origin = np.asarray(j["origin"], dtype=float)
        d = frame0[:3, 3] - origin
        along = axis * float(d @ axis)
        f0 = frame0.copy()
        f0[:3, 3] = origin + along + (d - along) * k
    moved = part_motion(policy, q) @ f0
    follow = min(1.0, max(0.0, p.get("wristFollow", 1.0))) if j["type"] == "revolute" else 1.0
    if follow < 1:
        partial = axis_angle(j["axis"], q_start + (q - q_start) * follow) @ f0
        moved[:3, :3] = partial[:3, :3]
    return moved


def quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """(w, x, y, z) of a rotation matrix."""
    R = m[:3, :3]
    tr = R[0, 0] + R[1, 1] + R[2, 2]
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = [0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s]
    elif R[0, 0] > R[1, 1] and R[0, 0] > R[2, 2]:
        s = math.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2]) * 2
        q = [(R[2, 1] - R[1, 2]) / s, 0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s]
    elif R[1, 1] > R[2, 2]:
        s = math.sqrt(1.0 + R[1, 1] - R[0, 0] - R[2, 2]) * 2
        q = [(R[0, 2] - R[2, 0]) / s, (R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + R[2, 2] - R[0, 0] - R[1, 1]) * 2
        q = [(R[1, 0] - R[0, 1]) / s, (R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s]
    return _unit(q)


def matrix_from_quat(q: Sequence[float], p: Sequence[float]) -> np.ndarray:
    w, x, y, z = _unit(q)
    m = np.eye(4)
    m[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    m[:3, 3] = p
    return m


def slerp_frame(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    qa, qb = quat_from_matrix(a), quat_from_matrix(b)
    dot = float(qa @ qb)
    if dot < 0:
        qb, dot = -qb, -dot
    if dot > 0.9995:
        q = qa + s * (qb - qa)
    else:
        th = math.acos(min(1.0, dot))
        q = (math.sin((1 - s) * th) * qa + math.sin(s * th) * qb) / math.sin(th)
    return matrix_from_quat(q, a[:3, 3] + s * (b[:3, 3] - a[:3, 3]))


def rotation_angle(a: np.ndarray, b: np.ndarray) -> float:
    tr = float(np.sum(a[:3, :3] * b[:3, :3]))
    return math.acos(min(1.0, max(-1.0, (tr - 1) / 2)))


def smooth(s: float) -> float:
    x = min(1.0, max(0.0, s))
    return x * x * (3 - 2 * x)


# ------------------------------------------------------------------------------------------------
# IK


def pose_error(current: np.ndarray, target: np.ndarray, rot_weight: float = 1.0) -> np.ndarray:
    """6-vector from current to target (world): position difference, rotation vector of Rt Rc^T
    (times ``rot_weight``)."""
    e = np.zeros(6)
    e[:3] = target[:3, 3] - current[:3, 3]
    R = target[:3, :3] @ current[:3, :3].T
    cos = min(1.0, max(-1.0, (np.trace(R) - 1) / 2))
    angle = math.acos(cos)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    s = float(np.linalg.norm(w))
    if angle < 1e-9:
        w = np.zeros(3)
    elif s > 1e-9:
        w = w * (angle / s)
    else:
        ax = math.sqrt(max(0.0, (R[0, 0] + 1) / 2))
        ay = math.sqrt(max(0.0, (R[1, 1] + 1) / 2))
        az = math.sqrt(max(0.0, (R[2, 2] + 1) / 2))
        w = np.array([ax * angle, (1 if R[0, 1] >= 0 else -1) * ay * angle, (1 if R[0, 2] >= 0 else -1) * az * angle])
    e[3:] = w * rot_weight
    return e


def dls_step(J: np.ndarray, e: np.ndarray, lam: float = IK_LAMBDA, rest: Optional[np.ndarray] = None, q: Optional[np.ndarray] = None, null_gain: float = 0.0) -> np.ndarray:
    """dq = J^T (J J^T + lam^2 I)^-1 e  (+ (I - J^T (J J^T + lam^2 I)^-1 J) null_gain (rest - q))."""
    A = J @ J.T + (lam * lam) * np.eye(6)
    dq = J.T @ np.linalg.solve(A, e)
    if rest is not None and q is not None and null_gain > 0:
        z = null_gain * (np.asarray(rest) - np.asarray(q))
        dq = dq + z - J.T @ np.linalg.solve(A, J @ z)
    return dq


def tcp_jacobian(J_hand: np.ndarray, hand_rot: np.ndarray, tcp_offset: float) -> np.ndarray:
    """Jacobian of a point ``tcp_offset`` along the hand's z from the hand link's (6 x n) Jacobian."""
    r = hand_rot[:, 2] * tcp_offset
    skew = np.array([[0, -r[2], r[1]], [r[2], 0, -r[0]], [-r[1], r[0], 0]])
    J = J_hand.copy()
    J[:3] = J_hand[:3] - skew @ J_hand[3:]
    return J


# ------------------------------------------------------------------------------------------------
# Episode controller


class OpeningController:
    """Per-episode controller: call :meth:`command` every control tick (CONTROL_DT).

    As rollout.ts: until the pull starts, the pre-grasp and grasp targets follow the observed
    object joint value when :meth:`command` is given it (a bump that swings a light door moves the
    handle), and the pull starts from the joint value observed when it begins; while a revolute
    part is held the IK weights the orientation error by PULL_ROT_WEIGHT."""

    def __init__(self, policy: Dict[str, Any], joint_lower: float, joint_upper: float, observed_fraction: float, tcp0: np.ndarray, rest_q: Sequence[float]):
        self.policy = policy
        self.p = params_of(policy)
        self.eval_range = opening_range(joint_lower, joint_upper)
        self.q_start = policy_joint_value(policy, observed_fraction)
        self.q_end = policy_joint_value(policy, 1 + self.p["overshoot"])
        frames = [grasp_frame(policy, False), grasp_frame(policy, True)]
        starts = [opening_frame(policy, f, self.q_start, self.q_start) for f in frames]
        flip = 1 if rotation_angle(tcp0, starts[1]) < rotation_angle(tcp0, starts[0]) else 0
        self.frame0 = frames[flip]
        self.grasp_start = starts[flip]
        self.pre_grasp = self._pre(self.grasp_start)
        self.tcp0 = tcp0
        self.rest = np.asarray(rest_q, dtype=float)
        self.t_pull = min(8.0, abs(self.q_end - self.q_start) / max(1e-3, self.p["speed"]))
        self.duration = T_REACH + T_APPROACH + T_CLOSE + self.t_pull + T_HOLD
        self.pull_started = False

    def _pre(self, g: np.ndarray) -> np.ndarray:
        pre = g.copy()
        pre[:3, 3] = g[:3, 3] - g[:3, 2] * self.p["standoff"]
        return pre

    def observe(self, joint_value: float) -> None:
        """The object joint's measured value: before the pull the grasp targets move with it; when
        the pull begins, the path starts from it."""
        q = policy_joint_value(self.policy, self.fraction(joint_value))
        if not self.pull_started:
            self.q_start = q
            self.grasp_start = opening_frame(self.policy, self.frame0, q, q)
            self.pre_grasp = self._pre(self.grasp_start)

    def target(self, t: float) -> Tuple[str, np.ndarray, float]:
        """(phase, TCP target frame, finger opening per finger in m) at episode time t."""
        p = self.p
        if t < T_REACH:
            return "reach", slerp_frame(self.tcp0, self.pre_grasp, smooth(t / (T_REACH * 0.7))), 0.04
        if t < T_REACH + T_APPROACH:
            return "approach", slerp_frame(self.pre_grasp, self.grasp_start, smooth((t - T_REACH) / (T_APPROACH * 0.6))), 0.04
        if t < T_REACH + T_APPROACH + T_CLOSE:
            return "close", self.grasp_start, p["gripClosure"]
        self.pull_started = True
        s = min(1.0, (t - T_REACH - T_APPROACH - T_CLOSE) / max(self.t_pull, 1e-6))
        q = self.q_start + (self.q_end - self.q_start) * s
        return ("pull" if s < 1 else "hold"), opening_frame(self.policy, self.frame0, q, self.q_start), p["gripClosure"]

    def command(self, t: float, tcp: np.ndarray, J: np.ndarray, arm_q: np.ndarray, joint_value: Optional[float] = None) -> Tuple[np.ndarray, float, str]:
        """Arm joint targets (7), finger target, phase for the measured TCP pose/Jacobian/arm q
        (and, optionally, the measured object joint value, see :meth:`observe`)."""
        if joint_value is not None:
            self.observe(joint_value)
        phase, target, grip = self.target(t)
        held_revolute = phase in ("pull", "hold") and self.policy["joint"]["type"] == "revolute"
        e = pose_error(tcp, target, PULL_ROT_WEIGHT if held_revolute else 1.0)
        dq = dls_step(J, e, IK_LAMBDA, self.rest, arm_q, NULL_GAIN)
        m = float(np.max(np.abs(dq))) if dq.size else 0.0
        scale = MAX_STEP / m if m > MAX_STEP else 1.0
        return arm_q + dq * scale, grip, phase

    def fraction(self, joint_value: float) -> float:
        closed, open_, _ = self.eval_range
        return (joint_value - closed) / ((open_ - closed) or 1.0)


# ------------------------------------------------------------------------------------------------
# Starts and training


def perturbed_start(seed: int, k: int, fraction_jitter: float = 0.03, q_jitter: float = 0.03, xyz: float = 0.01, yaw: float = 1.5 * math.pi / 180) -> Dict[str, Any]:
    """The k-th perturbed start for seed (deterministic; numpy's generator, not src/core/random.ts)."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(k)])
    return {
        "fraction": START_FRACTION + rng.uniform(-fraction_jitter, fraction_jitter),
        "q_jitter": rng.uniform(-q_jitter, q_jitter, size=7),
        "xyz": np.array([rng.uniform(-xyz, xyz), rng.uniform(-xyz, xyz), 0.5 * rng.uniform(-xyz, xyz)]),
        "yaw": rng.uniform(-yaw, yaw),
    }


def with_params(policy: Dict[str, Any], params: Dict[str, float]) -> Dict[str, Any]:
    out = dict(policy)
    out["params"] = dict(params)
    return out


def cem_train(
    initial: Dict[str, Any],
    evaluate: Callable[[List[Dict[str, Any]], int], List[Tuple[float, int]]],
    iterations: int,
    population: int,
    seed: int,
    trials_per_candidate: int = 2,
    elite_fraction: float = 0.25,
    progress: Optional[Callable[[float, str], None]] = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Dict[str, Any]:
    """Cross-entropy search over the tunable params (as train.ts). ``evaluate(policies, iter_seed)``
    runs every candidate on ``trials_per_candidate`` starts of ``iter_seed`` (in parallel envs) and
    returns (mean score, successes) per candidate. Returns the best policy seen."""
    ranges = param_ranges(initial["joint"]["type"])
    keys = [k for k in PARAM_KEYS if ranges[k][1] > ranges[k][0]]
    p0 = params_of(initial)
    lo = np.array([ranges[k][0] for k in keys])
    hi = np.array([ranges[k][1] for k in keys])
    mean = np.clip((np.array([p0[k] for k in keys]) - lo) / (hi - lo), 0, 1)
    std = np.full(len(keys), 0.3)
    elite_n = max(2, int(round(population * elite_fraction)))
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFF)
    best: Optional[Dict[str, Any]] = None
    streak = 0
    for it in range(iterations):
        if cancelled():
            raise RuntimeError("IsaacTrain: cancelled")
        iter_seed = int(rng.integers(0, 2**32))
        samples = [mean.copy() if (it == 0 and c == 0) else np.clip(mean + std * rng.standard_normal(len(keys)), 0, 1) for c in range(population)]
        candidates = []
        for u in samples:
            params = dict(p0)
            params.update({k: float(lo[i] + u[i] * (hi[i] - lo[i])) for i, k in enumerate(keys)})
            candidates.append(with_params(initial, params))
        scored = evaluate(candidates, iter_seed)
        for cand, (score, successes) in zip(candidates, scored):
            if best is None or score > best["score"]:
                best = {"policy": cand, "score": score, "success": successes / trials_per_candidate}
        order = sorted(range(population), key=lambda i: -scored[i][0])
        elites = [samples[i] for i in order[:elite_n]]
        mean = np.mean(elites, axis=0)
        std = np.maximum(0.03, np.std(elites, axis=0))
        if progress:
            progress((it + 1) / iterations, "iteration %d/%d best %.3f" % (it + 1, iterations, best["score"]))
        streak = streak + 1 if all(scored[i][1] == trials_per_candidate for i in order[:elite_n]) else 0
        if streak >= 2:
            break
    assert best is not None
    policy = dict(best["policy"])
    meta = dict(initial.get("meta") or {})
    meta.update({"trainScore": best["score"], "trainSuccess": best["success"], "trainedWith": "cem-isaacgym", "seed": seed})
    policy["meta"] = meta
    return {"policy": policy, "score": best["score"], "success": best["success"]}


# ------------------------------------------------------------------------------------------------
# Robot placement (geometry.ts placeRobot, vectorised)


def handle_sweep_points(policy: Dict[str, Any], samples: int = 9) -> List[np.ndarray]:
    """Points swept by the part near the handle while opening: the handle path and, for revolute
    joints, the segment from the axis to the handle (the door panel's width) at each sample."""
    frame = grasp_frame(policy)
    overshoot = max(0.0, params_of(policy)["overshoot"])
    out: List[np.ndarray] = []
    j = policy["joint"]
    for i in range(samples):
        q = policy_joint_value(policy, 0.1 + (1 + overshoot - 0.1) * i / (samples - 1))
        M = part_motion(policy, q)
        g = (M @ np.append(np.asarray(policy["grasp"], dtype=float), 1.0))[:3]
        out.append(g)
        if j["type"] == "revolute":
            axis = _unit(j["axis"])
            o = np.asarray(j["origin"], dtype=float)
            foot = o + axis * float((g - o) @ axis)
            for s in (0.25, 0.5, 0.75):
                out.append(foot + (g - foot) * s)
    del frame
    return out


def place_robot(policy: Dict[str, Any], object_points: Sequence[Sequence[float]] = (), clearance: float = 0.12, part_points: Sequence[Sequence[float]] = ()) -> Tuple[np.ndarray, float]:
    """Pose of panda_link0 (4x4, x towards the object) in front of the part so the pre-grasp and
    the handle path lie in the arm's comfortable shell; returns (base, worst reach margin). A
    policy that carries ``robotBase`` (the stance it was trained from) is placed there."""
    p = params_of(policy)
    f = -_unit(policy["approach"])
    h = np.array([f[0], f[1], 0.0])
    if np.linalg.norm(h) < 0.3:
        d = np.asarray(policy["grasp"], dtype=float) - np.asarray(policy["joint"]["origin"], dtype=float)
        h = np.array([d[0], d[1], 0.0])
        if np.linalg.norm(h) < 1e-6:
            h = np.array([1.0, 0.0, 0.0])
    h = _unit(h)
    side = np.array([-h[1], h[0], 0.0])
    overshoot = max(0.0, p["overshoot"])
    frame = grasp_frame(policy)
    tcps, wrists = [], []
    for i in range(13):
        q = policy_joint_value(policy, 0.15 + (1 + overshoot - 0.15) * i / 12)
        fr = opening_frame(policy, frame, q, q)
        frames = [fr]
        if i == 0:
            pre = fr.copy()
            pre[:3, 3] = fr[:3, 3] - fr[:3, 2] * max(0.05, p["standoff"])
            frames.append(pre)
        for x in frames:
            tcps.append(x[:3, 3])
            wrists.append((x @ np.array([0, 0, -0.25, 1.0]))[:3])
    tcps_a, wrists_a = np.array(tcps), np.array(wrists)
    centre = tcps_a.mean(axis=0)
    front = max((float(np.asarray(pt) @ h) for pt in object_points), default=-math.inf)
    swept = np.array(part_points, dtype=float).reshape(-1, 3)
    ds = np.arange(0.1, 1.2001, 0.025)
    ls = np.arange(-0.5, 0.5001, 0.05)
    dzs = np.arange(-0.8, 0.2001, 0.05)
    D, L, Z = np.meshgrid(ds, ls, dzs, indexing="ij")
    pos = centre + D.reshape(-1, 1) * h + L.reshape(-1, 1) * side + np.stack([np.zeros(D.size), np.zeros(D.size), Z.reshape(-1)], axis=1)
    ok = np.ones(len(pos), dtype=bool)
    if math.isfinite(front):
        ok &= pos @ h >= front + clearance
    if len(swept):
        dxy = np.hypot(swept[None, :, 0] - pos[:, None, 0], swept[None, :, 1] - pos[:, None, 1])
        hit = (swept[None, :, 2] < pos[:, None, 2] + 0.45) & (dxy < 0.16)
        ok &= ~hit.any(axis=1)
    if not ok.any():
        ok[:] = True
    shoulder = pos + np.array([0, 0, 0.333])
    rho = np.hypot(tcps_a[None, :, 0] - pos[:, None, 0], tcps_a[None, :, 1] - pos[:, None, 1])
    reach = np.linalg.norm(wrists_a[None, :, :] - shoulder[:, None, :], axis=2)
    wz = wrists_a[None, :, 2] - pos[:, None, 2]
    m = np.minimum.reduce([rho - 0.3, 0.82 - rho, reach - 0.25, 0.66 - reach, wz + 0.1, 0.9 - wz])
    cost = (np.maximum(0, -m) * 10 + np.abs(reach - 0.46) + 0.3 * np.abs(wz - 0.35)).mean(axis=1)
    margin = m.min(axis=1)
    score = -cost + 2 * np.minimum(margin, 0.08)
    score[~ok] = -np.inf
    best = int(np.argmax(score))
    stored = policy.get("robotBase")
    if isinstance(stored, (list, tuple)) and len(stored) == 16:
        # The stance the policy was trained from (types.ts robotBase); margin of the nearest candidate.
        base = np.asarray(stored, dtype=float).reshape(4, 4)
        nearest = int(np.argmin(np.linalg.norm(pos - base[:3, 3], axis=1)))
        return base, float(margin[nearest])
    x = -h
    y = np.cross([0, 0, 1.0], x)
    base = np.eye(4)
    base[:3, 0], base[:3, 1], base[:3, 2], base[:3, 3] = x, y, [0, 0, 1.0], pos[best]
    return base, float(margin[best])
