/**
 * sensor_msgs/CameraInfo <-> Camera (OpenCV intrinsics). CameraInfo carries no pose: the node
 * supplies the camera-to-world (OpenCV optical) from its configuration.
 */
import type { Camera, Intrinsics } from '../core/camera.js';
import type { Mat4 } from '../core/math.js';
import type { CameraInfoMsg, Header } from './types.js';

/** Intrinsics from K (row-major 3x3), scaled by binning. */
export function cameraInfoToIntrinsics(msg: CameraInfoMsg): Intrinsics {
  if (msg === null || typeof msg !== 'object') throw new Error('RosCameraInfo: not a sensor_msgs/CameraInfo message');
  const { width, height } = msg;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`RosCameraInfo: image size must be positive, got ${width}x${height}`);
  }
  const k = msg.k;
  if (!k || k.length !== 9) throw new Error(`RosCameraInfo: k must have 9 values, got ${k?.length ?? 'none'}`);
  const bx = msg.binning_x > 1 ? msg.binning_x : 1;
  const by = msg.binning_y > 1 ? msg.binning_y : 1;
  const fx = Number(k[0]) / bx, fy = Number(k[4]) / by, cx = Number(k[2]) / bx, cy = Number(k[5]) / by;
  if (![fx, fy, cx, cy].every(Number.isFinite) || !(fx > 0 && fy > 0)) {
    throw new Error(`RosCameraInfo: k must have finite fx, fy > 0 and a finite principal point, got fx=${fx} fy=${fy} cx=${cx} cy=${cy}`);
  }
  return { width: Math.floor(width / bx), height: Math.floor(height / by), fx, fy, cx, cy };
}

export function cameraInfoToCamera(msg: CameraInfoMsg, camToWorld: Mat4): Camera {
  return { intrinsics: cameraInfoToIntrinsics(msg), camToWorld };
}

/** CameraInfo for intrinsics (no distortion, identity rectification). */
export function intrinsicsToCameraInfo(k: Intrinsics, header: Header = { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' }): CameraInfoMsg {
  return {
    header,
    height: k.height,
    width: k.width,
    distortion_model: 'plumb_bob',
    d: new Float64Array(5),
    k: new Float64Array([k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1]),
    r: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    p: new Float64Array([k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0]),
    binning_x: 0,
    binning_y: 0,
    roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
  };
}
