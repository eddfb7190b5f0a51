import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapWriter, type IWritable } from '@mcap/core';
import * as lz4 from 'lz4js';
import { rgbaToImageMsg } from '../src/ros/image.js';
import { intrinsicsToCameraInfo } from '../src/ros/camera-info.js';
import { codec, schemaText } from '../src/ros/messages.js';
import { BagWriter, readBag, type BagMessage } from '../src/ros/mcap.js';
import { replayBag } from '../src/ros/replay.js';
import { RolloutSummarySchema, movableJoint, type Simulate } from '../src/ros/simulate.js';
import { pointCloud2ToPoints } from '../src/ros/outputs.js';
import { ArticulationJsonSchema, ROS_TYPE, StatusSchema, type PointCloud2Msg } from '../src/ros/types.js';
import { rigCameras } from '../src/core/camera.js';
import { renderSample } from './fixtures/ros/scene.js';
import { defaultSample } from '../src/web/server.js';
import { acceptancePipeline } from './fixtures/ros/real-pipeline.js';
import { fakePipeline } from './fixtures/ros/fake-pipeline.js';

const S = 1_000_000_000n;

/** The bundled sample (256x256 cabinet) and its drawer drag. */
const sample = defaultSample();
const drag = sample.drags[0] ?? { start: [176.25, 156.32], end: [191.94, 238.49] };

async function inputBag(path: string, imageTopic = '/camera/image_raw'): Promise<void> {
  const img = sample.image;
  const [x0, y0] = drag.start, [x1, y1] = drag.end;
  const header = (t: number) => ({ stamp: { sec: t, nanosec: 0 }, frame_id: 'camera_optical' });
  const w = await BagWriter.create(path);
  await w.write('/partrm_bridge/drags_json', ROS_TYPE.string, { data: '{"drags":[{"start":[60,80],"end":[60,100]}]}' }, 1n * S);
  await w.write('/camera/camera_info', ROS_TYPE.cameraInfo, intrinsicsToCameraInfo(rigCameras({ views: 1, size: img.width })[0]!.intrinsics, header(2)), 2n * S);
  await w.write(imageTopic, ROS_TYPE.image, rgbaToImageMsg(img, 'bgr8', header(2)), 2n * S);
  await w.write('/partrm_bridge/drags', ROS_TYPE.dragArray, { header: header(3), image_width: img.width, image_height: img.height, drags: [{ start_x: x0, start_y: y0, end_x: x1, end_y: y1 }] }, 3n * S);
  await w.write(imageTopic, ROS_TYPE.image, { ...rgbaToImageMsg(img, 'rgb8', header(4)), encoding: 'yuv422' }, 4n * S);
  // Drawn on a half-size copy of the image: the node scales it to the image's pixels.
  await w.write('/partrm_bridge/drags_json', ROS_TYPE.string, { data: JSON.stringify({ drags: [{ start: [x0 / 2, y0 / 2], end: [x1 / 2, y1 / 2] }], image_width: img.width / 2, image_height: img.height / 2 }) }, 5n * S);
  await w.write('/partrm_bridge/drags_json', ROS_TYPE.string, { data: '{"drags": nope' }, 6n * S);
  await w.close();
}

async function collect(path: string): Promise<BagMessage[]> {
  const out: BagMessage[] = [];
  await readBag(path, (m) => void out.push(m));
  return out;
}

test('replayed bag with images and drags yields URDF and articulation messages in the output bag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-replay-'));
  const { pipeline, real, model } = await acceptancePipeline();
  if (!real) console.log('# replay acceptance: the real pipeline (createPipeline) is not available yet; using the fake');
  else console.log(`# replay acceptance: real pipeline, model ${model}, sample ${sample.name}`);
  try {
    await inputBag(join(dir, 'in.mcap'));
    // With a stand-in for the optional rollout (the MuJoCo one is exercised by `partrm replay --simulate`).
    const simulate: Simulate = async ({ request, urdf }) => ({ request, joint: movableJoint(urdf)!.name, task: 'drawer', success_rate: 1, trials: 1, final_states: [0.3], trajectory: { t: [0, 1], joint: [0, 0.3] } });
    const summary = await replayBag({ bag: join(dir, 'in.mcap'), outDir: join(dir, 'out'), write: join(dir, 'out.mcap'), pipeline, simulate });
    assert.equal(summary.messages, 7);
    assert.deepEqual(summary.used, { image: '/camera/image_raw', cameraInfo: '/camera/camera_info', drags: '/partrm_bridge/drags', dragsJson: '/partrm_bridge/drags_json' });
    assert.equal(summary.done, 2, JSON.stringify(summary));
    assert.equal(summary.warnings, 3, JSON.stringify(summary)); // drags before any image, yuv422 image, invalid JSON
    const out = await collect(join(dir, 'out.mcap'));
    const on = (t: string) => out.filter((m) => m.channel.topic === `/partrm_bridge/${t}`);
    assert.equal(on('urdf').length, 2);
    assert.equal(on('articulation').length, 2);
    assert.equal(on('gaussians').length, 2);
    assert.equal(on('markers').length, 2);
    for (const m of on('urdf')) {
      assert.equal(m.channel.type, ROS_TYPE.string);
      const urdf = codec<{ data: string }>(ROS_TYPE.string).decode(m.data).data;
      assert.match(urdf, /<robot[\s>]/);
      assert.match(urdf, /<joint [^>]*type="(prismatic|revolute)"/);
    }
    const arts = on('articulation').map((m) => ArticulationJsonSchema.parse(JSON.parse(codec<{ data: string }>(ROS_TYPE.string).decode(m.data).data)));
    assert.ok(arts.every((a) => a.joints.length >= 1));
    // The JSON drag drawn on a half-size copy was scaled to the image.
    assert.deepEqual(arts[0]!.drags, [{ start: drag.start, end: drag.end }]);
    assert.deepEqual(arts[1]!.drags, [{ start: drag.start, end: drag.end }]);
    assert.ok(on('urdf')[0]!.logTime >= 3n * S && on('urdf')[1]!.logTime >= 5n * S);
    const cloud = pointCloud2ToPoints(codec<PointCloud2Msg>(ROS_TYPE.pointCloud2).decode(on('gaussians')[0]!.data));
    assert.ok(cloud.positions.length > 0);
    {
      const policies = on('policy').map((m) => RolloutSummarySchema.parse(JSON.parse(codec<{ data: string }>(ROS_TYPE.string).decode(m.data).data)));
      assert.equal(policies.length, 2);
      assert.ok(policies.every((p) => p.trials === 1 && p.trajectory && p.trajectory.t.length > 1 && p.joint.length > 0));
      assert.ok(existsSync(join(dir, 'out', 'request-000001', 'rollout.json')));
    }
    const statuses = on('status').map((m) => StatusSchema.parse(JSON.parse(codec<{ data: string }>(ROS_TYPE.string).decode(m.data).data)));
    assert.deepEqual(statuses.filter((s) => s.level === 'warn').map((s) => s.event), ['no_image', 'bad_image', 'bad_drags']);
    // The schemas in the output bag are self-contained ros2msg text.
    assert.equal(on('markers')[0]!.channel.schema, schemaText(ROS_TYPE.markerArray));
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['request-000001', 'request-000002']);
    assert.ok(existsSync(join(dir, 'out', 'request-000001', 'input.png')));
  } finally {
    await pipeline.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A valid zstd frame holding `data` in raw (stored) blocks: enough to test the decompression path. */
function zstdStored(data: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0]; // magic; single segment, 4-byte content size, no checksum
  parts.push(data.length & 255, (data.length >> 8) & 255, (data.length >> 16) & 255, (data.length >>> 24) & 255);
  const MAX = 128 * 1024;
  let off = 0;
  do {
    const n = Math.min(MAX, data.length - off);
    const last = off + n >= data.length ? 1 : 0;
    const h = (n << 3) | last; // block type 0 = raw
    parts.push(h & 255, (h >> 8) & 255, (h >> 16) & 255);
    for (let i = 0; i < n; i++) parts.push(data[off + i]!);
    off += n;
  } while (off < data.length);
  return Uint8Array.from(parts);
}

test('replay finds an image topic by type, reads lz4- and zstd-compressed chunks, and rejects broken bags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'partrm-replay-'));
  try {
    // lz4- and zstd-chunked bags (rosbag2 writes either) with the image on another topic.
    for (const compression of ['lz4', 'zstd'] as const) {
      const path = join(dir, `${compression}.mcap`);
      const fh = await open(path, 'w');
      let pos = 0n;
      const writable: IWritable = { write: async (b) => { await fh.write(b); pos += BigInt(b.length); }, position: () => pos };
      const compress = (d: Uint8Array) => (compression === 'lz4' ? Uint8Array.from(lz4.compress(d) as ArrayLike<number>) : zstdStored(d));
      const w = new McapWriter({ writable, useChunks: true, compressChunk: (d) => ({ compression, compressedData: compress(d) }) });
      await w.start({ profile: 'ros2', library: 'test' });
      const reg = async (topic: string, type: string) => w.registerChannel({ topic, messageEncoding: 'cdr', metadata: new Map(), schemaId: await w.registerSchema({ name: type, encoding: 'ros2msg', data: new TextEncoder().encode(schemaText(type)) }) });
      const imgCh = await reg('/cam/color', ROS_TYPE.image);
      const dragCh = await reg('/partrm_bridge/drags', ROS_TYPE.dragArray);
      const img = rgbaToImageMsg(renderSample(64), 'rgba8');
      await w.addMessage({ channelId: imgCh, sequence: 1, logTime: S, publishTime: S, data: codec(ROS_TYPE.image).encode(img) });
      await w.addMessage({ channelId: dragCh, sequence: 1, logTime: 2n * S, publishTime: 2n * S, data: codec(ROS_TYPE.dragArray).encode({ header: img.header, image_width: 0, image_height: 0, drags: [{ start_x: 30, start_y: 40, end_x: 30, end_y: 50 }] }) });
      await w.end();
      await fh.close();
      const pipeline = fakePipeline();
      const s = await replayBag({ bag: path, outDir: join(dir, `out-${compression}`), pipeline });
      assert.equal(s.used.image, '/cam/color', compression);
      assert.equal(s.done, 1, compression);
      assert.equal(pipeline.calls[0]!.image.width, 64);
    }
    const pipeline = fakePipeline();

    writeFileSync(join(dir, 'junk.mcap'), 'not an mcap file at all');
    await assert.rejects(replayBag({ bag: join(dir, 'junk.mcap'), outDir: join(dir, 'o2'), write: join(dir, 'o2.mcap'), pipeline }), /McapBag: .*junk\.mcap is not a readable MCAP file/);
    assert.equal(existsSync(join(dir, 'o2.mcap')), false, 'no half-written output bag');
    await assert.rejects(replayBag({ bag: join(dir, 'missing.mcap'), outDir: join(dir, 'o3'), pipeline }), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
