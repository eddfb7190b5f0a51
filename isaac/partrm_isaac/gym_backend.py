"""Isaac Gym (Preview 4) backend: every Isaac Gym call of the worker lives in :class:`IsaacGymBackend`.

One task = one Isaac Gym sim with one env per rollout (K evaluation trials, or population x
trials-per-candidate rollouts per CEM iteration), each env holding the object (its URDF from the
bundle, fixed base, DOF drive NONE + damping/friction so doors do not swing open on a touch) and a
Franka Panda (from the bundle when it ships ``franka/panda.urdf`` or any URDF with panda_joint1..7,
else Isaac Gym's ``urdf/franka_description/robots/franka_panda.urdf``; fixed base, no gravity,
position drives with the FrankaCabinet gains: stiffness 400 / damping 80, fingers 1e6 / 1e2).
DOFs and bodies are looked up by name, never by index. Every control tick (10 ms) the TCP pose and
the hand Jacobian are read from the tensor API, and each env's :class:`~partrm_isaac.policy.OpeningController`
turns its target frame into joint-position targets by one DLS step (lambda 0.05), exactly the
episode of src/policy/rollout.ts; the grasp is physical (finger friction), there is no weld.

``isaacgym`` (and torch, which it brings) are imported lazily inside the class, so the worker and
its protocol tests run where Isaac Gym is not installed. Nothing here has been run on this
project's CI machine (no NVIDIA driver / Isaac Gym there): see isaac/README.md for the GPU box.
"""
from __future__ import annotations

import logging
import math
import os
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import policy as PL
from .worker import Backend, CancelledFn, ProgressFn, TaskCancelled

log = logging.getLogger("partrm_isaac")

ARM_JOINTS = ["panda_joint%d" % i for i in range(1, 8)]
FINGER_JOINTS = ["panda_finger_joint1", "panda_finger_joint2"]
HAND_LINK = "panda_hand"
TCP_OFFSET = 0.1034  # hand -> TCP along the hand's z (franka_description)
ARM_STIFFNESS, ARM_DAMPING = 400.0, 80.0
FINGER_STIFFNESS, FINGER_DAMPING = 1.0e6, 1.0e2
ARMATURE = 0.005
# Minimum object joint dynamics, as src/sim/mujoco/scene.ts (importers may drop URDF <dynamics>).
MIN_DYNAMICS = {"prismatic": (10.0, 1.0), "revolute": (2.0, 0.5), "continuous": (2.0, 0.5)}
HOME_Q = [0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.785]
DEFAULT_TRIALS = 20
DEFAULT_BUDGET = {"iterations": 6, "population": 10}
TRIALS_PER_CANDIDATE = 2


class IsaacGymError(Exception):
    def __init__(self, message: str):
        super().__init__("IsaacGym: " + message)


def _urdf_joint(urdf_path: str, name: str) -> Dict[str, Any]:
    """Type, limits and dynamics of a URDF joint (read leniently, as PartNet-Mobility needs)."""
    root = ET.parse(urdf_path).getroot()
    names = []
    for j in root.iter("joint"):
        names.append(j.get("name"))
        if j.get("name") != name:
            continue
        jt = j.get("type", "")
        if jt not in ("prismatic", "revolute", "continuous"):
            raise IsaacGymError('joint "%s" of %s is %s, not a movable joint' % (name, urdf_path, jt or "untyped"))
        lim = j.find("limit")
        lower = float(lim.get("lower", "0")) if lim is not None else 0.0
        upper = float(lim.get("upper", "0")) if lim is not None else 0.0
        if jt == "continuous" or not upper > lower:
            if jt != "continuous":
                raise IsaacGymError('joint "%s" of %s has no usable limits (lower < upper expected)' % (name, urdf_path))
            lower, upper = 0.0, math.pi / 2
        dyn = j.find("dynamics")
        damping = float(dyn.get("damping", "0") or 0) if dyn is not None else 0.0
        friction = float(dyn.get("friction", "0") or 0) if dyn is not None else 0.0
        return {"type": "revolute" if jt == "continuous" else jt, "lower": lower, "upper": upper, "damping": damping, "friction": friction}
    raise IsaacGymError('%s has no joint "%s"; joints: %s' % (urdf_path, name, ", ".join(n for n in names if n) or "(none)"))


def _find_franka_in_bundle(bundle_dir: str) -> Optional[str]:
    preferred = os.path.join(bundle_dir, "franka", "panda.urdf")
    if os.path.isfile(preferred):
        return preferred
    for base, _dirs, files in os.walk(bundle_dir):
        for f in files:
            if f.endswith(".urdf"):
                p = os.path.join(base, f)
                try:
                    text = open(p, encoding="utf-8", errors="replace").read(200_000)
                except OSError:
                    continue
                if all(('name="%s"' % j) in text for j in ARM_JOINTS):
                    return p
    return None


def _mat_from_pq(p: Sequence[float], q_xyzw: Sequence[float]) -> np.ndarray:
    x, y, z, w = q_xyzw
    return PL.matrix_from_quat([w, x, y, z], p)


class IsaacGymBackend(Backend):
    """Runs evaluate / train tasks in Isaac Gym Preview 4 (see the module docstring)."""

    backends = ("isaacgym",)

    def __init__(self, device: str = "cuda:0", graphics_device: int = -1, num_envs: int = 0, franka_urdf: Optional[str] = None, **_ignored: Any):
        self.device = device
        self.compute_device = int(device.split(":")[1]) if device.startswith("cuda:") else 0
        self.use_gpu_physx = device.startswith("cuda")
        self.graphics_device = graphics_device
        self.max_envs = num_envs
        self.franka_urdf = franka_urdf
        self._gym = None
        self._gymapi = None
        self._gymtorch = None
        self._torch = None

    # -------------------------------------------------------------------- Isaac Gym, lazily

    def _load(self) -> None:
        if self._gym is not None:
            return
        try:
            from isaacgym import gymapi, gymtorch  # noqa: WPS433 - must be imported before torch
        except ImportError as e:
            raise IsaacGymError("isaacgym is not importable (%s): install Isaac Gym Preview 4 (pip install -e isaacgym/python) in this Python" % e)
        import torch

        self._gymapi, self._gymtorch, self._torch = gymapi, gymtorch, torch
        self._gym = gymapi.acquire_gym()

    def _franka_asset_path(self, bundle_dir: str) -> Tuple[str, str]:
        path = _find_franka_in_bundle(bundle_dir) or self.franka_urdf
        if path is None:
            import isaacgym

            assets = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(isaacgym.__file__))), "..", "assets")
            path = os.path.join(os.path.abspath(assets), "urdf", "franka_description", "robots", "franka_panda.urdf")
        if not os.path.isfile(path):
            raise IsaacGymError("Franka URDF not found at %s (ship franka/panda.urdf in the bundle or pass --franka)" % path)
        return os.path.dirname(path), os.path.basename(path)

    def _create_sim(self) -> Any:
        gymapi = self._gymapi
        sp = gymapi.SimParams()
        sp.dt = PL.CONTROL_DT
        sp.substeps = 2
        sp.up_axis = gymapi.UP_AXIS_Z
        sp.gravity = gymapi.Vec3(0.0, 0.0, -9.81)
        sp.use_gpu_pipeline = False  # numpy control loop; PhysX itself may still run on the GPU
        sp.physx.solver_type = 1
        sp.physx.num_position_iterations = 8
        sp.physx.num_velocity_iterations = 1
        sp.physx.contact_offset = 0.005
        sp.physx.rest_offset = 0.0
        sp.physx.friction_offset_threshold = 0.001
        sp.physx.friction_correlation_distance = 0.0005
        sp.physx.num_threads = max(1, (os.cpu_count() or 2) - 1)
        sp.physx.use_gpu = self.use_gpu_physx
        sim = self._gym.create_sim(self.compute_device, self.graphics_device, gymapi.SIM_PHYSX, sp)
        if sim is None:
            raise IsaacGymError("create_sim failed (device %s, graphics device %d)" % (self.device, self.graphics_device))
        plane = gymapi.PlaneParams()
        plane.normal = gymapi.Vec3(0.0, 0.0, 1.0)
        self._gym.add_ground(sim, plane)
        return sim

    def _load_assets(self, sim: Any, bundle_dir: str, urdf_rel: str) -> Tuple[Any, Any]:
        gymapi, gym = self._gymapi, self._gym
        # The object: fixed base, no drives on its DOFs, VHACD so non-convex PartNet meshes collide
        # sensibly, COM/inertia recomputed (PartNet links have no <inertial>).
        oo = gymapi.AssetOptions()
        oo.fix_base_link = True
        oo.collapse_fixed_joints = True
        oo.disable_gravity = False
        oo.default_dof_drive_mode = gymapi.DOF_MODE_NONE
        oo.armature = ARMATURE
        oo.override_com = True
        oo.override_inertia = True
        oo.vhacd_enabled = True
        oo.vhacd_params = gymapi.VhacdParams()
        oo.vhacd_params.resolution = 200000
        oo.vhacd_params.max_convex_hulls = 32
        oo.use_mesh_materials = True
        oo.flip_visual_attachments = False
        obj = gym.load_asset(sim, bundle_dir, urdf_rel, oo)
        if obj is None:
            raise IsaacGymError("load_asset failed for %s" % urdf_rel)
        # The robot: fixed base, gravity off, position drives (FrankaCabinet settings).
        root, name = self._franka_asset_path(bundle_dir)
        ro = gymapi.AssetOptions()
        ro.fix_base_link = True
        ro.collapse_fixed_joints = False  # keep panda_hand as a body of its own (the TCP hangs off it)
        ro.disable_gravity = True
        ro.default_dof_drive_mode = gymapi.DOF_MODE_POS
        ro.armature = ARMATURE
        ro.flip_visual_attachments = name.endswith("franka_panda.urdf")  # Isaac Gym's copy has .dae visuals
        ro.use_mesh_materials = True
        ro.thickness = 0.001
        robot = gym.load_asset(sim, root, name, ro)
        if robot is None:
            raise IsaacGymError("load_asset failed for the Franka at %s/%s" % (root, name))
        dof_names = gym.get_asset_dof_names(robot)
        missing = [j for j in ARM_JOINTS + FINGER_JOINTS if j not in dof_names]
        if missing:
            raise IsaacGymError("Franka asset %s/%s lacks DOFs %s" % (root, name, ", ".join(missing)))
        return obj, robot

    # -------------------------------------------------------------------- scene

    def _build(self, bundle_dir: str, spec: Dict[str, Any], jinfo: Dict[str, Any], policy: Dict[str, Any], num_envs: int) -> Dict[str, Any]:
        gymapi, gym, gymtorch, torch = self._gymapi, self._gym, self._gymtorch, self._torch
        sim = self._create_sim()
        obj_asset, robot_asset = self._load_assets(sim, bundle_dir, spec["urdf"])
        # Object DOF: no drive, damping/friction at least MIN_DYNAMICS.
        obj_props = gym.get_asset_dof_properties(obj_asset)
        obj_dof_names = gym.get_asset_dof_names(obj_asset)
        if spec["joint"] not in obj_dof_names:
            raise IsaacGymError('the asset of %s has no DOF "%s" (DOFs: %s)' % (spec["urdf"], spec["joint"], ", ".join(obj_dof_names)))
        min_d, min_f = MIN_DYNAMICS[jinfo["type"]]
        for i in range(len(obj_props)):
            obj_props["driveMode"][i] = gymapi.DOF_MODE_NONE
            obj_props["stiffness"][i] = 0.0
            obj_props["damping"][i] = max(min_d, jinfo["damping"]) if obj_dof_names[i] == spec["joint"] else max(min_d, float(obj_props["damping"][i]))
            obj_props["friction"][i] = max(min_f, jinfo["friction"]) if obj_dof_names[i] == spec["joint"] else max(min_f, float(obj_props["friction"][i]))
        # Robot DOFs: position drives.
        r_props = gym.get_asset_dof_properties(robot_asset)
        r_names = gym.get_asset_dof_names(robot_asset)
        for i, n in enumerate(r_names):
            r_props["driveMode"][i] = gymapi.DOF_MODE_POS
            finger = n in FINGER_JOINTS
            r_props["stiffness"][i] = FINGER_STIFFNESS if finger else ARM_STIFFNESS
            r_props["damping"][i] = FINGER_DAMPING if finger else ARM_DAMPING

        base, margin = PL.place_robot(policy, [policy["grasp"]], 0.42, PL.handle_sweep_points(policy))
        log.info("IsaacGym: robot base at %s (reach margin %.3f m)", np.round(base[:3, 3], 3).tolist(), margin)
        bq = PL.quat_from_matrix(base)
        spacing = 2.5
        lower, upper = gymapi.Vec3(-spacing, -spacing, 0.0), gymapi.Vec3(spacing, spacing, spacing)
        per_row = max(1, int(math.ceil(math.sqrt(num_envs))))
        envs, objs, robots = [], [], []
        for e in range(num_envs):
            env = gym.create_env(sim, lower, upper, per_row)
            o_pose = gymapi.Transform()
            o_pose.p = gymapi.Vec3(0.0, 0.0, 0.0)
            o_pose.r = gymapi.Quat(0.0, 0.0, 0.0, 1.0)
            o = gym.create_actor(env, obj_asset, o_pose, "object", e, 0, 0)
            gym.set_actor_dof_properties(env, o, obj_props)
            r_pose = gymapi.Transform()
            r_pose.p = gymapi.Vec3(*[float(v) for v in base[:3, 3]])
            r_pose.r = gymapi.Quat(float(bq[1]), float(bq[2]), float(bq[3]), float(bq[0]))
            r = gym.create_actor(env, robot_asset, r_pose, "franka", e, 0, 0)
            gym.set_actor_dof_properties(env, r, r_props)
            envs.append(env)
            objs.append(o)
            robots.append(r)
        gym.prepare_sim(sim)
        # Global (sim-domain) indices, looked up by name in every env.
        dom = gymapi.DOMAIN_SIM
        idx = {
            "joint": [gym.find_actor_dof_index(envs[e], objs[e], spec["joint"], dom) for e in range(num_envs)],
            "arm": [[gym.find_actor_dof_index(envs[e], robots[e], n, dom) for n in ARM_JOINTS] for e in range(num_envs)],
            "fingers": [[gym.find_actor_dof_index(envs[e], robots[e], n, dom) for n in FINGER_JOINTS] for e in range(num_envs)],
            "hand": [gym.find_actor_rigid_body_index(envs[e], robots[e], HAND_LINK, dom) for e in range(num_envs)],
            "object_actor": [gym.get_actor_index(envs[e], objs[e], dom) for e in range(num_envs)],
        }
        for e in range(num_envs):
            if gym.find_actor_dof_handle(envs[e], objs[e], spec["joint"]) < 0 or idx["joint"][e] < 0:
                raise IsaacGymError('DOF "%s" not found by name in env %d' % (spec["joint"], e))
            if min(idx["arm"][e] + idx["fingers"][e]) < 0 or idx["hand"][e] < 0:
                raise IsaacGymError("Franka DOFs/bodies not found by name in env %d" % e)
        # Jacobian rows of the hand link (fixed base: link i -> row i - 1; the robot's local index).
        hand_local = gym.find_actor_rigid_body_index(envs[0], robots[0], HAND_LINK, gymapi.DOMAIN_ACTOR)
        arm_local = [gym.find_actor_dof_index(envs[0], robots[0], n, gymapi.DOMAIN_ACTOR) for n in ARM_JOINTS]
        tensors = {
            "dof": gymtorch.wrap_tensor(gym.acquire_dof_state_tensor(sim)),
            "rb": gymtorch.wrap_tensor(gym.acquire_rigid_body_state_tensor(sim)),
            "jac": gymtorch.wrap_tensor(gym.acquire_jacobian_tensor(sim, "franka")),
            "root": gymtorch.wrap_tensor(gym.acquire_actor_root_state_tensor(sim)),
        }
        num_dofs = tensors["dof"].shape[0]
        origins = []
        for env in envs:
            o = gym.get_env_origin(env)
            origins.append(np.array([o.x, o.y, o.z]))
        return {
            "sim": sim, "envs": envs, "idx": idx, "t": tensors, "num_dofs": num_dofs,
            "targets": torch.zeros(num_dofs, dtype=torch.float32), "base": base,
            "hand_jac_row": hand_local - 1, "arm_local": arm_local, "root0": tensors["root"].clone(), "origins": origins,
        }

    def _refresh(self, S: Dict[str, Any]) -> None:
        gym, sim = self._gym, S["sim"]
        gym.refresh_dof_state_tensor(sim)
        gym.refresh_rigid_body_state_tensor(sim)
        gym.refresh_jacobian_tensors(sim)
        gym.refresh_actor_root_state_tensor(sim)

    def _tcp(self, S: Dict[str, Any], e: int) -> Tuple[np.ndarray, np.ndarray]:
        """(TCP pose 4x4, TCP Jacobian 6x7) of env e, world frame (the env origin is the object's)."""
        rb = S["t"]["rb"][S["idx"]["hand"][e]].cpu().numpy()
        # Tensor positions are in the sim frame; each env's origin is where its object sits.
        hand = _mat_from_pq(rb[0:3] - S["origins"][e], rb[3:7])
        tcp = hand @ PL.translation([0.0, 0.0, TCP_OFFSET])
        Jh = S["t"]["jac"][e, S["hand_jac_row"], :, :].cpu().numpy()[:, S["arm_local"]]
        return tcp, PL.tcp_jacobian(Jh, hand[:3, :3], TCP_OFFSET)

    # -------------------------------------------------------------------- rollouts

    def _rollout_batch(self, S: Dict[str, Any], policies: List[Dict[str, Any]], starts: List[Dict[str, Any]], jinfo: Dict[str, Any], cancelled: CancelledFn) -> List[Dict[str, Any]]:
        """Runs len(policies) episodes in envs 0..n-1 at once; other envs hold still."""
        gym, gymtorch, torch, sim = self._gym, self._gymtorch, self._torch, S["sim"]
        n = len(policies)
        idx = S["idx"]
        dof = S["t"]["dof"]
        closed, open_, _ = PL.opening_range(jinfo["lower"], jinfo["upper"])
        # Reset: object joint at the start fraction, arm at its (jittered) start, fingers open,
        # object pose perturbed (root state of the fixed-base object actor).
        dof[:, 1] = 0.0
        root = S["root0"].clone()
        for e in range(n):
            st = starts[e]
            dof[idx["joint"][e], 0] = closed + st["fraction"] * (open_ - closed)
            q = np.asarray(HOME_Q) + st["q_jitter"]
            for k, d in enumerate(idx["arm"][e]):
                dof[d, 0] = float(q[k])
            for d in idx["fingers"][e]:
                dof[d, 0] = 0.04
            a = idx["object_actor"][e]
            root[a, 0:3] = root[a, 0:3] + torch.tensor(st["xyz"], dtype=root.dtype)
            root[a, 3:7] = torch.tensor([0.0, 0.0, math.sin(st["yaw"] / 2), math.cos(st["yaw"] / 2)], dtype=root.dtype)
        gym.set_dof_state_tensor(sim, gymtorch.unwrap_tensor(dof))
        gym.set_actor_root_state_tensor(sim, gymtorch.unwrap_tensor(root))
        targets = S["targets"]
        targets[:] = dof[:, 0]
        gym.set_dof_position_target_tensor(sim, gymtorch.unwrap_tensor(targets))
        gym.simulate(sim)
        gym.fetch_results(sim, True)
        self._refresh(S)
        ctrls = []
        for e in range(n):
            tcp, _J = self._tcp(S, e)
            observed = (float(dof[idx["joint"][e], 0]) - closed) / ((open_ - closed) or 1.0)
            rest = np.array([float(dof[d, 0]) for d in idx["arm"][e]])
            ctrls.append(PL.OpeningController(policies[e], jinfo["lower"], jinfo["upper"], observed, tcp, rest))
        t_end = max(c.duration for c in ctrls)
        traces = [{"t": [], "joint": []} for _ in range(n)]
        steps = 0
        next_trace = 0.0
        t = 0.0
        while t < t_end:
            if cancelled():
                raise TaskCancelled()
            for e in range(n):
                if t > ctrls[e].duration:
                    continue  # finished: hold the last targets
                tcp, J = self._tcp(S, e)
                arm_q = np.array([float(dof[d, 0]) for d in idx["arm"][e]])
                # the measured door/drawer value: grasp targets follow the part until it is held
                q_cmd, grip, _phase = ctrls[e].command(t, tcp, J, arm_q, float(dof[idx["joint"][e], 0]))
                for k, d in enumerate(idx["arm"][e]):
                    targets[d] = float(q_cmd[k])
                for d in idx["fingers"][e]:
                    targets[d] = float(grip)
            gym.set_dof_position_target_tensor(sim, gymtorch.unwrap_tensor(targets))
            gym.simulate(sim)
            gym.fetch_results(sim, True)
            self._refresh(S)
            steps += 1
            t = steps * PL.CONTROL_DT
            if t >= next_trace:
                for e in range(n):
                    traces[e]["t"].append(round(t, 4))
                    traces[e]["joint"].append(float(dof[idx["joint"][e], 0]))
                next_trace += 0.05
        out = []
        for e in range(n):
            final = float(dof[idx["joint"][e], 0])
            frac = ctrls[e].fraction(final)
            out.append({"final": final, "fraction": frac, "success": frac >= PL.SUCCESS_FRACTION, "seconds": ctrls[e].duration, "trace": traces[e]})
        return out

    # -------------------------------------------------------------------- task entry point

    def run(self, bundle_dir: str, spec: Dict[str, Any], progress: ProgressFn, cancelled: CancelledFn) -> Dict[str, Any]:
        urdf_path = os.path.join(bundle_dir, *spec["urdf"].split("/"))
        jinfo = _urdf_joint(urdf_path, spec["joint"])
        seed = int(spec.get("seed", 1))
        if spec["kind"] == "evaluate":
            policy = spec.get("policy")
            if not isinstance(policy, dict):
                raise IsaacGymError("an evaluate task needs a policy")
            trials = int(spec.get("trials", DEFAULT_TRIALS))
            self._load()
            S = self._build(bundle_dir, spec, jinfo, policy, trials)
            try:
                progress(0.05, "isaac gym scene ready (%d envs)" % trials)
                res = self._rollout_batch(S, [policy] * trials, [PL.perturbed_start(seed, k) for k in range(trials)], jinfo, cancelled)
            finally:
                self._gym.destroy_sim(S["sim"])
            progress(1.0, "trial %d/%d" % (trials, trials))
            return {
                "kind": "evaluate",
                "successRate": sum(1 for r in res if r["success"]) / trials,
                "trials": trials,
                "finalStates": [r["final"] for r in res],
                "trajectory": res[0]["trace"],
            }
        if spec["kind"] == "train":
            initial = spec.get("policy")
            if not isinstance(initial, dict):
                # Deriving a policy from URDF geometry (handle detection) lives in src/policy/derive.ts;
                # the bridge sends the derived policy as the initial mean.
                raise IsaacGymError("a train task needs an initial policy (the bridge derives it from the URDF)")
            budget = spec.get("budget") or DEFAULT_BUDGET
            population = int(budget["population"])
            check_trials = max(1, int(spec.get("trials", 5)))
            envs = max(population * TRIALS_PER_CANDIDATE, check_trials)
            self._load()
            S = self._build(bundle_dir, spec, jinfo, initial, envs)
            try:
                def evaluate(cands: List[Dict[str, Any]], iter_seed: int) -> List[Tuple[float, int]]:
                    pols, starts = [], []
                    for c in cands:
                        for k in range(TRIALS_PER_CANDIDATE):
                            pols.append(c)
                            starts.append(PL.perturbed_start(iter_seed, k))
                    res = self._rollout_batch(S, pols, starts, jinfo, cancelled)
                    out = []
                    for i in range(len(cands)):
                        rs = res[i * TRIALS_PER_CANDIDATE:(i + 1) * TRIALS_PER_CANDIDATE]
                        score = sum((1 if r["success"] else 0) + max(-0.5, min(1.1, r["fraction"])) - 0.02 * r["seconds"] for r in rs) / len(rs)
                        out.append((score, sum(1 for r in rs if r["success"])))
                    return out

                trained = PL.cem_train(initial, evaluate, int(budget["iterations"]), population, seed, TRIALS_PER_CANDIDATE,
                                       progress=lambda f, m: progress(0.95 * f, m), cancelled=cancelled)
                res = self._rollout_batch(S, [trained["policy"]] * check_trials, [PL.perturbed_start(seed + 1000, k) for k in range(check_trials)], jinfo, cancelled)
            finally:
                self._gym.destroy_sim(S["sim"])
            progress(1.0, "trained")
            return {
                "kind": "train",
                "successRate": sum(1 for r in res if r["success"]) / check_trials,
                "trials": check_trials,
                "finalStates": [r["final"] for r in res],
                "policy": trained["policy"],
                "trajectory": res[0]["trace"],
            }
        raise IsaacGymError('unknown task kind "%s"; expected evaluate or train' % spec.get("kind"))
