/**
 * Pinhole cameras and the one place where OpenCV/ROS optical and OpenGL poses are converted.
 *
 * Conventions (ARCHITECTURE.md "Frames and units"):
 * - `Camera.camToWorld` is a camera-to-world 4x4 in the OpenCV/ROS optical convention
 *   (x right, y down, z forward). The PartRM/LGM model contract uses OpenGL (x right, y up,
 *   z backward); convert only with `opencvToOpenglPose` / `openglToOpencvPose`.
 * - Pixels are (x = column, y = row) with the origin at the top-left pixel's CORNER, so the
 *   centre of pixel (i, j) is (i + 0.5, j + 0.5) and a centred principal point is (W/2, H/2).
 */
import { type Mat4, type Vec3, mat4InvertRigid, mat4Multiply, transformPoint, vec3 } from './math.js';

export interface Intrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

export interface Camera {
  intrinsics: Intrinsics;
  /** Camera-to-world, OpenCV/ROS optical convention, row-major. */
  camToWorld: Mat4;
}

/** Flipping y and z axes of the camera frame: its own inverse, so both directions use it. */
const FLIP_YZ: Mat4 = new Float64Array([1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]);

/** OpenCV/ROS optical camera-to-world -> OpenGL camera-to-world (same camera, same centre). */
export function opencvToOpenglPose(camToWorldCv: Mat4): Mat4 {
  return mat4Multiply(camToWorldCv, FLIP_YZ);
}

/** OpenGL camera-to-world -> OpenCV/ROS optical camera-to-world. */
export function openglToOpencvPose(camToWorldGl: Mat4): Mat4 {
  return mat4Multiply(camToWorldGl, FLIP_YZ);
}

export function intrinsicsFromFovY(width: number, height: number, fovyDeg: number): Intrinsics {
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new Error(`Camera: image size must be positive integers, got ${width}x${height}`);
  }
  if (!(fovyDeg > 0 && fovyDeg < 180)) throw new Error(`Camera: fovy must be in (0, 180) degrees, got ${fovyDeg}`);
  const fy = height / 2 / Math.tan((fovyDeg * Math.PI) / 360);
  return { width, height, fx: fy, fy, cx: width / 2, cy: height / 2 };
}

export function fovYDegrees(k: Intrinsics): number {
  return (2 * Math.atan(k.height / 2 / k.fy) * 180) / Math.PI;
}

/** Same field of view, another resolution (pixel grid scaled about the image corner). */
export function scaleIntrinsics(k: Intrinsics, width: number, height: number): Intrinsics {
  const sx = width / k.width;
  const sy = height / k.height;
  return { width, height, fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy };
}

export interface Projection {
  x: number;
  y: number;
  /** Distance along the optical axis (camera z), in world units; <= 0 means behind the camera. */
  depth: number;
}

/** World point -> pixel (x, y) and depth. */
export function project(camera: Camera, p: Vec3, worldToCam: Mat4 = mat4InvertRigid(camera.camToWorld)): Projection {
  const c = transformPoint(worldToCam, p);
  const k = camera.intrinsics;
  return { x: (k.fx * c[0]) / c[2] + k.cx, y: (k.fy * c[1]) / c[2] + k.cy, depth: c[2] };
}

/** Pixel (x, y) at optical-axis depth -> world point. */
export function unproject(camera: Camera, x: number, y: number, depth: number): Vec3 {
  const k = camera.intrinsics;
  const c: Vec3 = [((x - k.cx) / k.fx) * depth, ((y - k.cy) / k.fy) * depth, depth];
  return transformPoint(camera.camToWorld, c);
}

/** Projects packed xyz points; returns packed (x, y) pixels and depths. */
export function projectPoints(camera: Camera, points: Float32Array): { pixels: Float32Array; depth: Float32Array } {
  const w2c = mat4InvertRigid(camera.camToWorld);
  const k = camera.intrinsics;
  const n = points.length / 3;
  const pixels = new Float32Array(n * 2);
  const depth = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = points[i * 3]!, y = points[i * 3 + 1]!, z = points[i * 3 + 2]!;
    const cx = w2c[0]! * x + w2c[1]! * y + w2c[2]! * z + w2c[3]!;
    const cy = w2c[4]! * x + w2c[5]! * y + w2c[6]! * z + w2c[7]!;
    const cz = w2c[8]! * x + w2c[9]! * y + w2c[10]! * z + w2c[11]!;
    pixels[i * 2] = (k.fx * cx) / cz + k.cx;
    pixels[i * 2 + 1] = (k.fy * cy) / cz + k.cy;
    depth[i] = cz;
  }
  return { pixels, depth };
}

/**
 * Camera-to-world (OpenCV optical) for a camera at `eye` looking at `target`, with image "up"
 * as close to `up` as possible (so image rows go down along -up).
 */
export function lookAtOpencv(eye: Vec3, target: Vec3, up: Vec3 = [0, 0, 1]): Mat4 {
  const z = vec3.normalize(vec3.sub(target, eye));
  const xRaw = vec3.cross(z, up);
  if (vec3.length(xRaw) < 1e-9) throw new Error('Camera: look direction is parallel to the up vector');
  const x = vec3.normalize(xRaw);
  const y = vec3.cross(z, x);
  return new Float64Array([x[0], y[0], z[0], eye[0], x[1], y[1], z[1], eye[1], x[2], y[2], z[2], eye[2], 0, 0, 0, 1]);
}

export function cameraCentre(camera: Camera): Vec3 {
  const m = camera.camToWorld;
  return [m[3]!, m[7]!, m[11]!];
}

/** The PartDrag-4D rig: views evenly around the object, looking at the origin. */
export interface RigOptions {
  views: number;
  size: number;
  /** Distance from the object's centre to each camera, in rig units. */
  radius: number;
  /** Camera height above the object's centre, in rig units. */
  height: number;
  fovyDeg: number;
}

export const PARTDRAG_RIG: RigOptions = { views: 12, size: 512, radius: 2.4, height: 1.5, fovyDeg: 49.1 };

/**
 * View i sits at azimuth 2*pi*i/views (view 0 on +x, facing the object's front, which faces +x),
 * at `height` above the centre and `radius` from it, looking at the origin with z up.
 */
export function rigCameras(options: Partial<RigOptions> = {}): Camera[] {
  const o = { ...PARTDRAG_RIG, ...options };
  if (!(Number.isInteger(o.views) && o.views > 0)) throw new Error(`Camera: views must be a positive integer, got ${o.views}`);
  if (!(o.radius > Math.abs(o.height))) throw new Error('Camera: rig radius must exceed its height');
  const horizontal = Math.sqrt(o.radius * o.radius - o.height * o.height);
  const intrinsics = intrinsicsFromFovY(o.size, o.size, o.fovyDeg);
  const cams: Camera[] = [];
  for (let i = 0; i < o.views; i++) {
    const a = (2 * Math.PI * i) / o.views;
    const eye: Vec3 = [horizontal * Math.cos(a), horizontal * Math.sin(a), o.height];
    cams.push({ intrinsics: { ...intrinsics }, camToWorld: lookAtOpencv(eye, [0, 0, 0]) });
  }
  return cams;
}
