import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { readDragsFile } from '../src/cli/run.js';

const MODEL = 'test/fixtures/model-runtime/part-manifest.json';
const IMAGE = 'samples/cabinet/image.png';
const DRAGS = 'samples/cabinet/drags.json';

async function quiet<T>(f: () => Promise<T>): Promise<{ value: T; out: string }> {
  const log = console.log;
  let out = '';
  console.log = (...a: unknown[]) => {
    out += a.join(' ') + '\n';
  };
  try {
    return { value: await f(), out };
  } finally {
    console.log = log;
  }
}

describe('partrm run / predict (bundled sample, fixture model)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'partrm-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the bundled sample is complete', () => {
    for (const f of [IMAGE, DRAGS, 'samples/cabinet/sample.json', 'samples/cabinet/ground-truth/object.urdf']) assert.ok(existsSync(f), f);
    assert.equal(readDragsFile(DRAGS).length, 1);
  });

  it('partrm run writes the URDF, meshes, PLYs and pictures and prints the joint', async () => {
    const out = join(dir, 'run');
    const { out: text } = await quiet(() => main(['node', 'partrm', 'run', '--image', IMAGE, '--drags', DRAGS, '--model', MODEL, '--out', out, '--no-pictures', '--points', '4000']));
    assert.match(text, /joint prismatic: axis/);
    for (const f of ['object.urdf', 'base.obj', 'part.obj', 'initial.ply', 'dragged.ply', 'articulation.json', 'mask.png']) assert.ok(existsSync(join(out, f)), f);
    assert.ok(!existsSync(join(out, 'preview.png')));
  });

  it('partrm run --json prints machine-readable results', async () => {
    const { out: text } = await quiet(() => main(['node', 'partrm', 'run', '--image', IMAGE, '--drags', DRAGS, '--model', MODEL, '--out', join(dir, 'json'), '--json', '--no-pictures', '--points', '3000']));
    const r = JSON.parse(text) as { provider: string; joints: Array<{ type: string }>; timings: Record<string, number> };
    assert.equal(r.provider, 'cpu');
    assert.equal(r.joints[0]!.type, 'prismatic');
    assert.ok(r.timings['total']! > 0);
  });

  it('partrm predict writes both states', async () => {
    const out = join(dir, 'predict');
    await quiet(() => main(['node', 'partrm', 'predict', '--image', IMAGE, '--drags', DRAGS, '--model', MODEL, '--out', out]));
    for (const f of ['initial.ply', 'dragged.ply', 'preview.png', 'mask.png', 'drags.json']) assert.ok(existsSync(join(out, f)), f);
    assert.equal((JSON.parse(readFileSync(join(out, 'drags.json'), 'utf8')) as { drags: unknown[] }).drags.length, 10);
  });

  const badInputs: Array<[string, () => string[], RegExp]> = [
    ['a non-PNG image', () => ['--image', DRAGS, '--drags', DRAGS], /run: --image .*drags\.json is not a readable PNG/],
    ['a missing image', () => ['--image', '/nonexistent.png', '--drags', DRAGS], /run: cannot read --image \/nonexistent\.png/],
    ['drags that are not JSON', () => ['--image', IMAGE, '--drags', IMAGE], /run: --drags .*image\.png is not JSON/],
    ['an empty drag list', () => ['--image', IMAGE, '--drags', write('empty.json', '{"drags":[]}')], /at least one drag/],
    ['a drag with NaN', () => ['--image', IMAGE, '--drags', write('nan.json', '[{"start":[1,"x"],"end":[2,2]}]')], /finite pixel coordinates/],
    ['a drag outside the image', () => ['--image', IMAGE, '--drags', write('out.json', '[{"start":[300,10],"end":[2,2]}]')], /drag 0 start \(300, 10\) lies outside the 256x256 image/],
    ['--ground-truth without --policy', () => ['--image', IMAGE, '--drags', DRAGS, '--ground-truth', 'samples/cabinet/ground-truth/object.urdf'], /run: --ground-truth needs --policy/],
    ['--ground-truth without its joint', () => ['--image', IMAGE, '--drags', DRAGS, '--policy', '--ground-truth', 'samples/cabinet/ground-truth/object.urdf'], /run: --ground-truth needs --ground-truth-joint/],
    ['a model that does not exist', () => ['--image', IMAGE, '--drags', DRAGS, '--model', '/nonexistent/m.json'], /Pipeline: no manifest for model \/nonexistent\/m\.json/],
  ];
  function write(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }
  for (const [name, args, re] of badInputs) {
    it(`fails clearly for ${name}`, async () => {
      const a = args();
      const withModel = a.includes('--model') ? a : [...a, '--model', MODEL];
      await assert.rejects(quiet(() => main(['node', 'partrm', 'run', ...withModel, '--out', join(dir, 'bad')])), re);
    });
  }
});
