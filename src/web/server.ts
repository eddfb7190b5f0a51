/**
 * `partrm serve`: the operator page and its small JSON API, on node:http, bound to 127.0.0.1 by
 * default. Runs go through a BridgeNode (one at a time, newest wins), so under the ROS node the
 * page's runs are also published on the node's topics and the page can follow the live image.
 *
 *   GET  /                      the page (src/web/assets/index.html, app.js, style.css)
 *   GET  /vendor/three/...      three.js modules from node_modules (import map; no CDN)
 *   GET  /vendor/urdf-loader/...
 *   GET  /api/info              {live, sample}
 *   GET  /api/sample.png        the bundled sample image
 *   GET  /api/sample.json       its name and suggested drags
 *   GET  /api/live.png          the latest ROS image (404 before the first / without ROS)
 *   POST /api/run               {image: base64 PNG, drags: [{start: [x, y], end: [x, y]}]} -> result JSON
 *   GET  /api/files/<request>/<path>   files the pipeline wrote for a request (URDF meshes)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { decodePngRgba, encodePngRgba, type RgbaImage } from '../core/image.js';
import type { Drag, GaussianSet } from '../core/types.js';
import type { BridgeNode, RunOutcome } from '../ros/node.js';
import { AXIS_COLOR, movingGaussianIndices } from '../ros/outputs.js';
import { imageMsgToRgba } from '../ros/image.js';
import { rigCameras } from '../core/camera.js';
import { generateObject } from '../dataset/categories.js';
import { restState } from '../dataset/articulated.js';
import { ObjectScene } from '../dataset/scene.js';
import { renderScene } from '../dataset/render.js';

export interface WebServerOptions {
  node: BridgeNode;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** The sample (default: the package's bundled sample, see `defaultSample`). */
  sample?: () => Sample;
  /** Whether the page offers "follow the live ROS image". */
  live?: boolean;
  /** Largest accepted request body (bytes, default 48 MiB). */
  maxBody?: number;
  log?: (text: string) => void;
}

export interface WebServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.json': 'application/json', '.urdf': 'application/xml', '.obj': 'text/plain', '.mtl': 'text/plain', '.stl': 'application/octet-stream', '.dae': 'application/xml', '.ply': 'application/octet-stream' };

const RunRequestSchema = z.object({
  image: z.string().min(1),
  drags: z.array(z.object({ start: z.tuple([z.number().finite(), z.number().finite()]), end: z.tuple([z.number().finite(), z.number().finite()]) })).min(1).max(64),
});

/** The package root (src/web and dist/web are both two levels down). */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const own = join(here, 'assets');
  if (existsSync(join(own, 'index.html'))) return own;
  return join(packageRoot(), 'src', 'web', 'assets');
}

function moduleDir(pkg: string): string {
  // Both packages are ESM with exports maps; look in the package's own node_modules first.
  const root = packageRoot();
  const p = join(root, 'node_modules', pkg);
  if (existsSync(join(p, 'package.json'))) return p;
  return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
}

/** Resolves `rel` under `base`; undefined when it escapes `base`. */
export function safeJoin(base: string, rel: string): string | undefined {
  if (rel.includes('\0')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return undefined;
  }
  const p = normalize(join(base, decoded));
  return p === base || p.startsWith(base.endsWith(sep) ? base : base + sep) ? p : undefined;
}

function b64(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function gaussianPayload(set: GaussianSet): { count: number; positions: string; colors: string; opacities: string } {
  const colors = new Uint8Array(set.count * 3);
  for (let i = 0; i < colors.length; i++) colors[i] = Math.max(0, Math.min(255, Math.round(set.colors[i]! * 255)));
  return { count: set.count, positions: b64(set.positions), colors: b64(colors), opacities: b64(set.opacities) };
}

/** The JSON the page gets for one run. */
export function runPayload(o: RunOutcome): Record<string, unknown> {
  const moving = movingGaussianIndices(o.result.articulation, o.result.initial, o.result.dragged);
  const files: Record<string, string> = {};
  const dir = o.dir;
  for (const [name, path] of Object.entries(o.files)) {
    if (dir && path.startsWith(dir + sep)) files[name] = `/api/files/${encodeURIComponent(dir.split(sep).at(-1)!)}/${path.slice(dir.length + 1).split(sep).map(encodeURIComponent).join('/')}`;
  }
  return {
    request: o.request,
    urdf: o.result.urdf,
    filesBase: dir ? `/api/files/${encodeURIComponent(dir.split(sep).at(-1)!)}/` : null,
    files,
    articulation: o.articulation,
    axisColor: AXIS_COLOR,
    dragged: gaussianPayload(o.result.dragged),
    initial: gaussianPayload(o.result.initial),
    moving: b64(Uint32Array.from(moving)),
    timings: o.result.timings,
    rollout: o.rollout ?? null,
  };
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw Object.assign(new Error(`WebServer: request body larger than ${max} bytes`), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  send(res, status, JSON.stringify({ error: message }));
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? '127.0.0.1';
  const maxBody = o.maxBody ?? 48 * 1024 * 1024;
  const assets = assetsDir();
  const vendor: Record<string, { dir: string; allow: RegExp }> = {
    three: { dir: moduleDir('three'), allow: /^(build\/three\.(module|core)\.js|examples\/jsm\/[\w/.-]+\.js)$/ },
    'urdf-loader': { dir: moduleDir('urdf-loader'), allow: /^src\/[\w.-]+\.js$/ },
  };
  let sampleCache: { png: Uint8Array; drags: Drag[]; name: string } | undefined;
  const sample = (): { png: Uint8Array; drags: Drag[]; name: string } => {
    if (!sampleCache) {
      const s = (o.sample ?? defaultSample)();
      sampleCache = { png: encodePngRgba(s.image), drags: s.drags, name: s.name };
    }
    return sampleCache;
  };
  const outcomes = new Map<string, string>(); // request dir name -> absolute dir

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html' || path === '/app.js' || path === '/style.css')) {
      const file = path === '/' ? 'index.html' : path.slice(1);
      return send(res, 200, await readFile(join(assets, file)), MIME[extname(file)]);
    }
    if (req.method === 'GET' && path.startsWith('/vendor/')) {
      const [, , pkg, ...rest] = path.split('/');
      const v = pkg ? vendor[pkg] : undefined;
      const rel = rest.join('/');
      if (!v || !v.allow.test(rel)) return sendError(res, 404, `WebServer: no such module ${path}`);
      const p = safeJoin(v.dir, rel);
      if (!p || !existsSync(p)) return sendError(res, 404, `WebServer: no such module ${path}`);
      return send(res, 200, await readFile(p), MIME['.js']);
    }
    if (req.method === 'GET' && path === '/api/info') {
      return send(res, 200, JSON.stringify({ live: !!o.live, hasLiveImage: !!o.node.latestImage, busy: o.node.busy }));
    }
    if (req.method === 'GET' && path === '/api/sample.png') return send(res, 200, sample().png, 'image/png');
    if (req.method === 'GET' && path === '/api/sample.json') return send(res, 200, JSON.stringify({ name: sample().name, drags: sample().drags }));
    if (req.method === 'GET' && path === '/api/live.png') {
      const msg = o.node.latestImage;
      if (!o.live || !msg) return sendError(res, 404, 'WebServer: no live image yet');
      return send(res, 200, encodePngRgba(imageMsgToRgba(msg)), 'image/png');
    }
    if (req.method === 'GET' && path.startsWith('/api/files/')) {
      const [, , , reqDir, ...rest] = path.split('/');
      const dir = reqDir ? outcomes.get(decodeURIComponent(reqDir)) : undefined;
      const p = dir ? safeJoin(dir, rest.join('/')) : undefined;
      if (!p || !existsSync(p) || !statSync(p).isFile()) return sendError(res, 404, `WebServer: no such file ${path}`);
      return send(res, 200, await readFile(p), MIME[extname(p).toLowerCase()] ?? 'application/octet-stream');
    }
    if (req.method === 'POST' && path === '/api/run') {
      const body = await readBody(req, maxBody);
      let parsed: z.infer<typeof RunRequestSchema>;
      try {
        parsed = RunRequestSchema.parse(JSON.parse(body.toString('utf8')));
      } catch (err) {
        return sendError(res, 400, `WebServer: /api/run expects {"image": base64 PNG, "drags": [{"start": [x, y], "end": [x, y]}]} (${(err as Error).message.slice(0, 300)})`);
      }
      let image: RgbaImage;
      try {
        image = decodePngRgba(Buffer.from(parsed.image.replace(/^data:image\/png;base64,/, ''), 'base64'));
      } catch (err) {
        return sendError(res, 400, (err as Error).message);
      }
      let outcome: RunOutcome;
      try {
        outcome = await o.node.submit(image, parsed.drags.map((d) => ({ start: [d.start[0], d.start[1]], end: [d.end[0], d.end[1]] })));
      } catch (err) {
        const m = (err as Error).message;
        return sendError(res, /superseded/.test(m) ? 409 : /^RosDrags/.test(m) ? 400 : 500, m);
      }
      if (outcome.dir) outcomes.set(outcome.dir.split(sep).at(-1)!, outcome.dir);
      return send(res, 200, JSON.stringify(runPayload(outcome)));
    }
    return sendError(res, 404, `WebServer: no route ${req.method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error & { status?: number }) => {
      o.log?.(`WebServer: ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) sendError(res, err.status ?? 500, err.message);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 8080, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface Sample {
  image: RgbaImage;
  /** Suggested drags in the image's pixels (samples/<name>/drags.json), possibly none. */
  drags: Drag[];
  name: string;
}

/**
 * The bundled sample: samples/<name>/image.png (+ drags.json) of the package, first by name, else a
 * rendered storage cabinet (view 0 of the rig) without drags.
 */
export function defaultSample(): Sample {
  const dir = join(packageRoot(), 'samples');
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // No samples/ directory.
  }
  for (const n of names) {
    const png = join(dir, n, 'image.png');
    if (!existsSync(png)) continue;
    let drags: Drag[] = [];
    try {
      const j = JSON.parse(readFileSync(join(dir, n, 'drags.json'), 'utf8')) as { drags?: unknown };
      drags = z.array(z.object({ start: z.tuple([z.number(), z.number()]), end: z.tuple([z.number(), z.number()]) })).parse(j.drags);
    } catch {
      drags = [];
    }
    return { image: decodePngRgba(readFileSync(png)), drags, name: n };
  }
  const scene = new ObjectScene(generateObject('storage_furniture', 7));
  const out = renderScene(scene.renderItems(restState(scene.object)), rigCameras({ views: 1, size: 256 })[0]!);
  return { image: { width: out.width, height: out.height, data: out.rgba }, drags: [], name: 'rendered' };
}
