import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePngRgba, type RgbaImage } from '../src/core/image.js';
import type { Drag } from '../src/core/types.js';
import { DEFAULT_GENERATE, generateDataset } from '../src/dataset/generate.js';
import { readDatasetIndex, readNpy } from '../src/dataset/read.js';
import { readGaussianPly } from '../src/gaussians/ply.js';
import { PartRMModel } from '../src/model/model.js';
import { GraphSegmenter, type Segmenter } from '../src/drag/index.js';
import { PartRMPipeline, createPipeline, resolveManifestPath } from '../src/pipeline.js';

const PART_MANIFEST = 'test/fixtures/model-runtime/part-manifest.json';

/** View-0 image of a dataset drawer in its closed state and one dataset drag that opens it. */
async function drawerCase(root: string): Promise<{ image: RgbaImage; drag: Drag }> {
  const index = await readDatasetIndex(root);
  for (const obj of index.objects) {
    for (const d of obj.drags) {
      if (obj.joints[d.joint]!.type !== 'prismatic') continue;
      const npy = await readNpy(root, d.file);
      const [S, , K] = npy.shape as [number, number, number];
      if ((d.counts[0]?.[S - 1] ?? 0) === 0) continue;
      const state = obj.states.find((s) => s.id === d.states[0])!;
      const o = (S - 1) * K * 4;
      return {
        image: decodePngRgba(readFileSync(join(root, state.rgba[0]!))),
        drag: { start: [Number(npy.data[o]), Number(npy.data[o + 1])], end: [Number(npy.data[o + 2]), Number(npy.data[o + 3])] },
      };
    }
  }
  throw new Error('no drawer in the test dataset');
}

describe('pipeline (analytic part-moving ONNX fixture)', () => {
  let dir: string;
  let pipeline: PartRMPipeline;
  let sample: { image: RgbaImage; drag: Drag };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'partrm-pipeline-'));
    await generateDataset({
      ...DEFAULT_GENERATE,
      out: join(dir, 'd'),
      objects: 1,
      categories: ['storage_furniture'],
      size: 128,
      views: 1,
      statesPerPart: 2,
      points: 2000,
      dragsPerPair: 2,
      seed: 11,
    });
    sample = await drawerCase(join(dir, 'd'));
    // The fixture puts its Gaussians on the pixels' rays at one distance and slides the dragged region
    // towards the camera: no furniture geometry for the drag joint's hypotheses, so these tests run
    // the free two-state fit (the drag joint has its own tests in drag-joint.test.ts).
    pipeline = await PartRMPipeline.create({ model: PART_MANIFEST, points: 4000, joint: 'fit' });
  });
  after(async () => {
    await pipeline.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('image + drag -> prismatic joint along the pull direction, files written atomically', async () => {
    const out = join(dir, 'out');
    const r = await pipeline.run({ image: sample.image, drags: [sample.drag], outDir: out });
    const j = r.articulation.joints[0]!;
    assert.equal(j.type, 'prismatic');
    // The fixture pulls the dragged region towards the camera of view 0: the rig's view direction.
    const h = Math.sqrt(2.4 ** 2 - 1.5 ** 2);
    const want = [h / 2.4, 0, 1.5 / 2.4];
    const cos = Math.abs(j.axis[0] * want[0]! + j.axis[1] * want[1]! + j.axis[2] * want[2]!);
    assert.ok(cos > Math.cos((10 * Math.PI) / 180), `axis ${j.axis.map((v) => v.toFixed(3))}`);
    for (const name of ['initial.ply', 'dragged.ply', 'articulation.json', 'base.obj', 'part.obj', 'object.urdf', 'preview.png', 'mask.png', 'drags.json']) {
      assert.ok(r.files[name] && existsSync(r.files[name]!), `${name} written`);
    }
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
    assert.match(r.urdf, /<joint name="[^"]+" type="prismatic">/);
    assert.match(readFileSync(r.files['object.urdf']!, 'utf8'), /filename="part\.obj"/);
    const ply = readGaussianPly(readFileSync(r.files['dragged.ply']!));
    assert.equal(ply.count, r.dragged.count);
    const json = JSON.parse(readFileSync(r.files['articulation.json']!, 'utf8')) as { joints: Array<{ type: string }>; propagatedDrags: unknown[]; grasp?: number[]; graspMethod?: string };
    assert.equal(json.joints[0]!.type, 'prismatic');
    // The operator's drag start in 3D: where a policy derived from object.urdf grasps.
    assert.ok(Array.isArray(json.grasp) && json.grasp.length === 3 && json.grasp.every(Number.isFinite), `grasp ${JSON.stringify(json.grasp)}`);
    // ... and how it was placed on the part (src/articulation/grasp.ts).
    assert.match(json.graspMethod ?? '', /^(ray hits part|ray passes part|drag start)/);
    assert.equal(json.propagatedDrags.length, 10);
    for (const k of ['propagate', 'predict', 'sample', 'extract', 'write', 'total']) assert.ok(r.timings[k]! >= 0, k);
  });

  it('runs the drag joint step by default and says which method gave the joint', async () => {
    const p = await PartRMPipeline.create({ model: PART_MANIFEST, points: 4000 });
    try {
      const out = join(dir, 'out-drags');
      const r = await p.run({ image: sample.image, drags: [sample.drag], outDir: out });
      assert.ok(r.timings['joint']! >= 0);
      const json = JSON.parse(readFileSync(r.files['articulation.json']!, 'utf8')) as { jointMethod: string; joints: Array<{ type: string; axis: number[] }> };
      assert.match(json.jointMethod, /^drag joint \(part: (segment|extent)\): (prismatic along|revolute about) /);
      assert.deepEqual(json.joints[0]!.type, r.articulation.joints[0]!.type);
      assert.match(r.urdf, new RegExp(`type="${r.articulation.joints[0]!.type}"`));
    } finally {
      await p.dispose();
    }
  });

  it("tries the segmenter's extent as the part when its segment cannot place one", async () => {
    // A segment of one pixel (too few for the drag joint's part) with the graph segmenter's mask as its extent.
    const graph = new GraphSegmenter({ extentMerge: 0 });
    const segmenter: Segmenter = {
      name: 'one pixel + extent',
      async segment(image, point) {
        const m = await graph.segment(image, point);
        const data = new Uint8Array(m.data.length);
        data[Math.floor(point[1]) * image.width + Math.floor(point[0])] = 1;
        return { width: m.width, height: m.height, data, extent: m.data };
      },
    };
    const table: Array<[string, Segmenter, RegExp]> = [
      ['segment + extent', segmenter, /^drag joint \(part: extent\): /],
      ['the segment alone', { name: 'one pixel', segment: async (image, point) => ({ ...(await segmenter.segment(image, point)), extent: undefined }) }, /^two-state fit \(drag joint failed: DragJointFit: the part covers /],
    ];
    for (const [what, seg, want] of table) {
      const p = await PartRMPipeline.create({ model: PART_MANIFEST, points: 4000, segmenter: seg });
      try {
        const r = await p.run({ image: sample.image, drags: [sample.drag], outDir: join(dir, `out-extent-${what.length}`) });
        const json = JSON.parse(readFileSync(r.files['articulation.json']!, 'utf8')) as { jointMethod: string };
        assert.match(json.jointMethod, want, what);
      } finally {
        await p.dispose();
      }
    }
  });

  it('is deterministic: the same request gives the same joint', async () => {
    const a = await pipeline.run({ image: sample.image, drags: [sample.drag] });
    const b = await pipeline.run({ image: sample.image, drags: [sample.drag] });
    assert.deepEqual(a.articulation.joints[0]!.axis, b.articulation.joints[0]!.axis);
    assert.deepEqual(a.files, {});
  });

  it('puts results in the caller frame when given a camera', async () => {
    const m = pipeline.model.manifest;
    // The caller's camera = the rig's view-0 camera shifted by +1 along world x.
    const c2w = Float64Array.from(m.worldCameraView0.camToWorld);
    c2w[3] = c2w[3]! + 1;
    const base = await pipeline.run({ image: sample.image, drags: [sample.drag] });
    const moved = await pipeline.run({ image: sample.image, drags: [sample.drag], camera: { intrinsics: m.worldCameraView0.intrinsics, camToWorld: c2w } });
    assert.ok(Math.abs(moved.initial.positions[0]! - base.initial.positions[0]! - 1) < 1e-5);
    assert.ok(Math.abs(moved.articulation.joints[0]!.origin[0] - base.articulation.joints[0]!.origin[0] - 1) < 1e-3);
  });

  it('maps the rig frame to the caller world with a similarity (rigToWorld)', async () => {
    const base = await pipeline.run({ image: sample.image, drags: [sample.drag] });
    const s = 0.5;
    const scaled = await pipeline.run({ image: sample.image, drags: [sample.drag], rigToWorld: Float64Array.from([s, 0, 0, 1, 0, s, 0, 2, 0, 0, s, 3, 0, 0, 0, 1]) });
    assert.ok(Math.abs(scaled.initial.positions[0]! - (s * base.initial.positions[0]! + 1)) < 1e-5);
    assert.ok(Math.abs(scaled.initial.scales[0]! - s * base.initial.scales[0]!) < 1e-7);
    assert.equal(scaled.articulation.joints[0]!.type, 'prismatic');
    await assert.rejects(pipeline.run({ image: sample.image, drags: [sample.drag], rigToWorld: Float64Array.from([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) }), /similarity/);
  });

  const bad: Array<[string, () => { image: RgbaImage; drags: Drag[] }, RegExp]> = [
    ['no drags', () => ({ image: sample.image, drags: [] }), /Pipeline: at least one drag/],
    ['a drag outside the image', () => ({ image: sample.image, drags: [{ start: [500, 3], end: [3, 3] }] }), /drag 0 start \(500, 3\) lies outside the 128x128 image/],
    ['a NaN drag', () => ({ image: sample.image, drags: [{ start: [3, 3], end: [Number.NaN, 3] }] }), /drag 0 end must be two finite numbers/],
    ['a broken image', () => ({ image: { width: 4, height: 4, data: new Uint8Array(3) }, drags: [{ start: [1, 1], end: [2, 2] }] }), /Pipeline: image must be an RGBA image/],
  ];
  for (const [name, req, re] of bad) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(pipeline.run(req()), re);
    });
  }

  it('rejects a camera pose that is not rigid', async () => {
    const c2w = Float64Array.from(pipeline.model.manifest.worldCameraView0.camToWorld);
    for (let i = 0; i < 12; i++) if (i % 4 !== 3) c2w[i] = c2w[i]! * 2;
    await assert.rejects(
      pipeline.run({ image: sample.image, drags: [sample.drag], camera: { intrinsics: pipeline.model.manifest.worldCameraView0.intrinsics, camToWorld: c2w } }),
      /Pipeline: camera\.camToWorld must be a rigid transform/,
    );
  });

  it('stops between steps when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(pipeline.run({ image: sample.image, drags: [sample.drag], signal: ac.signal }), /abort/i);
  });
});

describe('createPipeline (the bridge seam)', () => {
  it('resolves manifests from a path, a directory or an .onnx and names a missing one', async () => {
    assert.ok(resolveManifestPath('test/fixtures/model-runtime').endsWith('test/fixtures/model-runtime/manifest.json'));
    assert.ok(resolveManifestPath('test/fixtures/model-runtime/part.onnx').endsWith('test/fixtures/model-runtime/manifest.json'));
    await assert.rejects(createPipeline({ model: '/nonexistent/model' }), /Pipeline: no manifest for model \/nonexistent\/model \(looked for \/nonexistent\/model\/manifest\.json\)/);
    const p = await createPipeline({ model: 'test/fixtures/model-runtime/fixture.onnx' });
    await p.dispose();
  });
  it('accepts a loaded model and leaves it open on dispose', async () => {
    const model = await PartRMModel.load(PART_MANIFEST, { inWorker: false });
    const p = await PartRMPipeline.create({ model });
    await p.dispose();
    assert.equal(model.provider, 'cpu');
    await model.dispose();
  });
});
