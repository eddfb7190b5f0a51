/**
 * A picture strip of one rollout: N frames side by side (CPU-rendered MuJoCo geoms, seen from
 * the front-left of the object and robot), each labelled with time, phase and joint value.
 */
import { intrinsicsFromFovY, lookAtOpencv } from '../core/camera.js';
import type { RgbaImage } from '../core/image.js';
import { encodePngRgba, writeFileAtomic } from '../core/image.js';
import type { Vec3 } from '../core/math.js';
import { vec3 } from '../core/math.js';
import { blit, createImage, drawText } from '../dataset/draw.js';
import type { OpeningEnv } from './env.js';
import type { RolloutResult, RolloutStart } from './rollout.js';
import { runRollout } from './rollout.js';
import type { OpeningPolicy } from './types.js';

export interface StripOptions {
  frames?: number;
  width?: number;
  height?: number;
}

/** Runs one rollout from `start`, rendering `frames` evenly spaced pictures. */
export function rolloutStrip(env: OpeningEnv, policy: OpeningPolicy, start: RolloutStart, options: StripOptions = {}): { image: RgbaImage; result: RolloutResult } {
  const n = Math.max(2, options.frames ?? 6);
  const w = options.width ?? 240;
  const h = options.height ?? 200;
  const sim = env.sim;
  // Camera: look at the middle between the handle and the robot base, from the side and above.
  const base = sim.linkPose('panda_link0');
  const b: Vec3 = [base[3]!, base[7]!, base[11]!];
  const target: Vec3 = vec3.scale(vec3.add(policy.grasp, vec3.add(b, [0, 0, 0.4])), 0.5);
  const toObj = vec3.sub(policy.grasp, b);
  const flat: Vec3 = vec3.length([toObj[0], toObj[1], 0]) > 1e-6 ? vec3.normalize([toObj[0], toObj[1], 0]) : [1, 0, 0];
  const side: Vec3 = [-flat[1], flat[0], 0];
  const dist = Math.max(2.0, vec3.length(toObj) * 2.8);
  const eye: Vec3 = vec3.add(target, vec3.add(vec3.scale(side, dist * 0.85), vec3.add(vec3.scale(flat, -dist * 0.35), [0, 0, dist * 0.45])));
  const camera = { intrinsics: intrinsicsFromFovY(w, h, 50), camToWorld: lookAtOpencv(eye, target) };
  const captured: Array<{ t: number; phase: string; img: RgbaImage; q: number }> = [];
  // First pass: the rollout's duration is known only at the end, so capture densely and pick.
  const result = runRollout(sim, policy, env.joint, env.partLinks, start, {
    frameEvery: 0.25,
    onFrame: (s, t, phase) => captured.push({ t, phase, img: s.render(camera), q: s.jointValue(env.joint.name) }),
  });
  const picks = Array.from({ length: n }, (_, i) => captured[Math.round((i * (captured.length - 1)) / (n - 1))]!);
  const image = createImage(w * n, h + 12, [255, 255, 255]);
  picks.forEach((f, i) => {
    blit(image, f.img, i * w, 12, 'copy');
    drawText(image, i * w + 4, 2, `t=${f.t.toFixed(1)}s ${f.phase} q=${f.q.toFixed(2)}`, [20, 20, 20]);
  });
  return { image, result };
}

export async function writeRolloutStrip(path: string, env: OpeningEnv, policy: OpeningPolicy, start: RolloutStart, options: StripOptions = {}): Promise<RolloutResult> {
  const { image, result } = rolloutStrip(env, policy, start, options);
  await writeFileAtomic(path, encodePngRgba(image));
  return result;
}
