/**
 * ROS 2 message shapes the bridge reads and writes (as decoded by @foxglove/rosmsg2-serialization
 * and as accepted by rclnodejs), the node's inputs and outputs as discriminated unions, and the
 * zod schemas of its JSON messages (drags in std_msgs/String, ~/status, ~/articulation).
 */
import { z } from 'zod';

export interface RosTime {
  sec: number;
  nanosec: number;
}

export interface Header {
  stamp: RosTime;
  frame_id: string;
}

/** Byte arrays arrive as Uint8Array (CDR reader), Buffer / number[] (rclnodejs). */
export type ByteArray = Uint8Array | readonly number[];

export interface ImageMsg {
  header: Header;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: ByteArray;
}

export interface RegionOfInterest {
  x_offset: number;
  y_offset: number;
  height: number;
  width: number;
  do_rectify: boolean;
}

export interface CameraInfoMsg {
  header: Header;
  height: number;
  width: number;
  distortion_model: string;
  d: ArrayLike<number>;
  k: ArrayLike<number>;
  r: ArrayLike<number>;
  p: ArrayLike<number>;
  binning_x: number;
  binning_y: number;
  roi: RegionOfInterest;
}

export interface StringMsg {
  data: string;
}

/** partrm/msg/Drag */
export interface DragMsg {
  start_x: number;
  start_y: number;
  end_x: number;
  end_y: number;
}

/** partrm/msg/DragArray */
export interface DragArrayMsg {
  header: Header;
  image_width: number;
  image_height: number;
  drags: DragMsg[];
}

export interface PointFieldMsg {
  name: string;
  offset: number;
  datatype: number;
  count: number;
}

export interface PointCloud2Msg {
  header: Header;
  height: number;
  width: number;
  fields: PointFieldMsg[];
  is_bigendian: boolean;
  point_step: number;
  row_step: number;
  data: Uint8Array;
  is_dense: boolean;
}

export interface Point {
  x: number;
  y: number;
  z: number;
}

export interface ColorRGBA {
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface MarkerMsg {
  header: Header;
  ns: string;
  id: number;
  type: number;
  action: number;
  pose: { position: Point; orientation: { x: number; y: number; z: number; w: number } };
  scale: Point;
  color: ColorRGBA;
  lifetime: RosTime;
  frame_locked: boolean;
  points: Point[];
  colors: ColorRGBA[];
  texture_resource: string;
  texture: { header: Header; format: string; data: Uint8Array };
  uv_coordinates: { u: number; v: number }[];
  text: string;
  mesh_resource: string;
  mesh_file: { filename: string; data: Uint8Array };
  mesh_use_embedded_materials: boolean;
}

export interface MarkerArrayMsg {
  markers: MarkerMsg[];
}

/** Fully qualified ROS 2 type names used by the bridge. */
export const ROS_TYPE = {
  image: 'sensor_msgs/msg/Image',
  cameraInfo: 'sensor_msgs/msg/CameraInfo',
  string: 'std_msgs/msg/String',
  pointCloud2: 'sensor_msgs/msg/PointCloud2',
  markerArray: 'visualization_msgs/msg/MarkerArray',
  drag: 'partrm/msg/Drag',
  dragArray: 'partrm/msg/DragArray',
} as const;
export type RosTypeName = (typeof ROS_TYPE)[keyof typeof ROS_TYPE];

/** What the node consumes (already decoded; `raw` inputs carry CDR bytes still to decode). */
export type NodeInput =
  | { kind: 'image'; msg: ImageMsg }
  | { kind: 'camera_info'; msg: CameraInfoMsg }
  | { kind: 'drags'; msg: DragArrayMsg }
  | { kind: 'drags_json'; msg: StringMsg }
  | { kind: 'raw'; type: RosTypeName; topic: string; data: Uint8Array };

/** Output topics, relative to the node's private namespace (`~/urdf` -> `/partrm_bridge/urdf`). */
export type NodeOutput =
  | { topic: 'urdf'; type: typeof ROS_TYPE.string; msg: StringMsg }
  | { topic: 'articulation'; type: typeof ROS_TYPE.string; msg: StringMsg }
  | { topic: 'status'; type: typeof ROS_TYPE.string; msg: StringMsg }
  | { topic: 'policy'; type: typeof ROS_TYPE.string; msg: StringMsg }
  | { topic: 'gaussians'; type: typeof ROS_TYPE.pointCloud2; msg: PointCloud2Msg }
  | { topic: 'markers'; type: typeof ROS_TYPE.markerArray; msg: MarkerArrayMsg };
export type OutputTopic = NodeOutput['topic'];

export const OUTPUT_TYPES: { [K in OutputTopic]: Extract<NodeOutput, { topic: K }>['type'] } = {
  urdf: ROS_TYPE.string,
  articulation: ROS_TYPE.string,
  status: ROS_TYPE.string,
  policy: ROS_TYPE.string,
  gaussians: ROS_TYPE.pointCloud2,
  markers: ROS_TYPE.markerArray,
};

// ---------------------------------------------------------------- JSON messages

const finite = z.number().finite();
const point2 = z.tuple([finite, finite]);

/**
 * The std_msgs/String drag form:
 * `{"drags": [{"start": [x, y], "end": [x, y]}], "image_width": W, "image_height": H}`
 * (image size optional: absent or 0 = the pixels of the latest image).
 */
export const DragJsonSchema = z
  .object({
    drags: z.array(z.object({ start: point2, end: point2 }).strict()).min(1).max(64),
    image_width: z.number().int().nonnegative().optional(),
    image_height: z.number().int().nonnegative().optional(),
  })
  .strict();
export type DragJson = z.infer<typeof DragJsonSchema>;

export const StatusLevel = z.enum(['info', 'warn', 'error']);
export type StatusLevel = z.infer<typeof StatusLevel>;

/** ~/status (std_msgs/String JSON). */
export const StatusSchema = z.object({
  level: StatusLevel,
  /** Machine-readable event: ready, image, camera_info, request_queued, request_superseded, running, done, failed, bad_image, bad_drags, bad_camera_info, bad_message, no_image. */
  event: z.string(),
  message: z.string(),
  request: z.number().int().optional(),
  stamp: z.object({ sec: z.number(), nanosec: z.number() }),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type Status = z.infer<typeof StatusSchema>;

const vec3 = z.tuple([finite, finite, finite]);

/** ~/articulation (std_msgs/String JSON). */
export const ArticulationJsonSchema = z.object({
  request: z.number().int(),
  frame_id: z.string(),
  joints: z.array(
    z.object({
      type: z.enum(['prismatic', 'revolute']),
      axis: vec3,
      origin: vec3,
      motion: finite,
      limits: z.tuple([finite, finite]),
      confidence: finite,
      moving_count: z.number().int().nonnegative(),
    }),
  ),
  drags: z.array(z.object({ start: point2, end: point2 })),
  files: z.record(z.string(), z.string()),
  timings: z.record(z.string(), finite),
});
export type ArticulationJson = z.infer<typeof ArticulationJsonSchema>;
