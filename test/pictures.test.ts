import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { intrinsicsFromFovY, lookAtOpencv } from '../src/core/camera.js';
import { decodePngRgba, type RgbaImage } from '../src/core/image.js';
import { Rng } from '../src/core/random.js';
import { emptyGaussians } from '../src/gaussians/ops.js';
import { PicturePainter } from '../src/pictures/painter.js';
import { type PictureJob, maskPicture, paintPng } from '../src/pictures/pictures.js';

const IDENTITY = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

/** Gaussians scattered around the origin and the same moved along x, seen from the front (fixed seed). */
function previewJob(seed: number): PictureJob {
  const rng = new Rng(seed);
  const n = 64;
  const initial = emptyGaussians(n);
  for (let i = 0; i < n; i++) {
    initial.positions.set([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)], 3 * i);
    initial.opacities[i] = rng.uniform(0.3, 1);
    initial.scales.set([0.05, 0.04, 0.03], 3 * i);
    initial.rotations.set([1, 0, 0, 0], 4 * i);
    initial.colors.set([rng.next(), rng.next(), rng.next()], 3 * i);
  }
  const dragged = { ...initial, positions: initial.positions.map((v, i) => (i % 3 === 0 ? v + 0.1 : v)) };
  const camera = { intrinsics: intrinsicsFromFovY(32, 32, 45), camToWorld: lookAtOpencv([0, -2, 0.5], [0, 0, 0], [0, 0, 1]) };
  return { kind: 'preview', camera, initial, dragged, worldFromRig: IDENTITY };
}

function maskJob(): PictureJob {
  const image: RgbaImage = { width: 8, height: 6, data: new Uint8Array(8 * 6 * 4).map((_, i) => (i * 37) % 256) };
  const data = new Uint8Array(48).map((_, p) => (p % 8 < 4 ? 1 : 0));
  return { kind: 'mask', image, masks: [{ width: 8, height: 6, data }], drags: [{ start: [1, 1], end: [6, 4] }] };
}

describe('maskPicture', () => {
  it('shows the mask as the image, the extent half washed out and the rest washed out', () => {
    // Three black pixels: the first in the mask, the second in its extent only, the third in neither.
    const image: RgbaImage = { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]) };
    const pic = maskPicture(image, [{ width: 3, height: 1, data: Uint8Array.from([1, 0, 0]), extent: Uint8Array.from([1, 1, 0]) }], []);
    const wash = Math.round(0.65 * 255);
    const table: Array<[string, number, number]> = [['mask', 0, 0], ['extent only', 1, Math.round(0.5 * 0.65 * 255)], ['neither', 2, wash]];
    for (const [what, p, want] of table) assert.deepEqual(Array.from(pic.data.subarray(4 * p, 4 * p + 4)), [want, want, want, 255], what);
  });
});

describe('PicturePainter', () => {
  const painters: PicturePainter[] = [];
  after(async () => {
    for (const p of painters) await p.dispose();
  });
  const start = (thread: boolean): PicturePainter => {
    const p = PicturePainter.start({ thread });
    painters.push(p);
    return p;
  };

  const jobs: Array<[string, PictureJob]> = [['preview', previewJob(7)], ['mask', maskJob()]];
  for (const thread of [true, false]) {
    for (const [name, job] of jobs) {
      it(`paints the ${name} ${thread ? 'on its thread' : 'on the calling thread'} byte for byte as paintPng does`, async () => {
        const painter = start(thread);
        assert.equal(painter.threaded, thread);
        const png = await painter.paint(job);
        assert.deepEqual(png, paintPng(job));
        const pic = decodePngRgba(png);
        assert.ok(pic.width > 0 && pic.height > 0);
      });
    }
  }

  it('takes several jobs at once and answers each with its own picture', async () => {
    const painter = start(true);
    const given = [previewJob(1), maskJob(), previewJob(2)];
    const pngs = await Promise.all(given.map((j) => painter.paint(j)));
    pngs.forEach((png, i) => assert.deepEqual(png, paintPng(given[i]!), `job ${i}`));
    assert.notDeepEqual(pngs[0], pngs[2]);
  });

  it('rejects a bad job with the reason and keeps painting', async () => {
    const painter = start(true);
    const good = previewJob(4);
    assert.equal(good.kind, 'preview');
    const bad = { ...good, camera: { ...good.camera, intrinsics: { ...good.camera.intrinsics, width: 0, height: 0 } } } as PictureJob;
    await assert.rejects(painter.paint(bad), /PicturePainter: renderGaussians: output size must be positive integers/);
    assert.deepEqual(await painter.paint(maskJob()), paintPng(maskJob()));
  });

  it('paints on the calling thread when its thread dies with jobs out', async () => {
    const painter = start(true);
    const job = previewJob(3);
    const png = painter.paint(job);
    // (Reaching into the painter: a crash cannot be caused from outside.)
    await (painter as unknown as { worker: Worker }).worker.terminate();
    assert.deepEqual(await png, paintPng(job));
    assert.equal(painter.threaded, false);
    assert.deepEqual(await painter.paint(maskJob()), paintPng(maskJob()));
  });

  it('rejects paint after dispose', async () => {
    const painter = start(true);
    await painter.dispose();
    await assert.rejects(painter.paint(maskJob()), /PicturePainter: paint after dispose/);
  });
});
