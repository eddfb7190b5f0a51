#!/usr/bin/env node
/**
 * The ROS 2 node's entry point (the `bridge` executable of the partrm package runs
 * `node <share>/partrm/dist/ros/main.js --ros-args ...`). Not a commander CLI: rcl parses the
 * `--ros-args` in process.argv itself.
 */
import { runRosBridge } from './rclnodejs-adapter.js';

runRosBridge().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
