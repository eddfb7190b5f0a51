/**
 * Test helper: parses a URDF with urdf-loader (the three.js URDF loader used by web viewers) in
 * Node, to check that our URDFs also load in browser tooling. Not shipped.
 *
 * urdf-loader expects browser globals: it calls `new DOMParser().parseFromString(text,
 * 'text/xml')` and evaluates `data instanceof Document` / `data instanceof Element` before that,
 * so those three must exist; linkedom provides them. Meshes are read synchronously from disk and
 * parsed with three's OBJLoader (urdf-loader's default loader would `fetch` and only knows
 * STL/DAE).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DOMParser, Document, Element } from 'linkedom';
import type { Object3D } from 'three';
import { Mesh } from 'three';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import URDFLoader from 'urdf-loader';

export interface ParsedUrdfJoint {
  name: string;
  /** URDF type attribute: revolute | prismatic | continuous | fixed | ... */
  type: string;
  /** Normalised axis (urdf-loader's default (1,0,0) when the URDF has none). */
  axis: [number, number, number];
  lower: number;
  upper: number;
}

export interface ParsedUrdf {
  links: string[];
  joints: ParsedUrdfJoint[];
  /** Mesh files (visual + collision) that loaded and produced geometry. */
  meshCount: number;
}

let globalsInstalled = false;
function installDomGlobals(): void {
  if (globalsInstalled) return;
  const g = globalThis as Record<string, unknown>;
  // Only fill gaps: never replace a real DOM if one exists.
  g.DOMParser ??= DOMParser;
  g.Document ??= Document;
  g.Element ??= Element;
  globalsInstalled = true;
}

export interface ParseWithUrdfLoaderOptions {
  /** Also parse `<collision>` elements (and load their meshes); default true. */
  parseCollision?: boolean;
}

/**
 * Parses `urdfPath` with urdf-loader; relative mesh paths resolve against the URDF's directory
 * and `package://pkg/...` against `<urdf dir>/pkg/...` (or the dir itself when it is named pkg).
 * Throws listing every mesh that failed to load (missing file, unsupported format, no geometry).
 */
export async function parseWithUrdfLoader(urdfPath: string, options: ParseWithUrdfLoaderOptions = {}): Promise<ParsedUrdf> {
  installDomGlobals();
  const absPath = resolve(urdfPath);
  const dir = dirname(absPath);
  const text = readFileSync(absPath, 'utf8');

  const loader = new URDFLoader();
  loader.workingPath = `${dir}/`;
  loader.packages = dir;
  loader.parseVisual = true;
  loader.parseCollision = options.parseCollision ?? true;

  let meshCount = 0;
  const failures: string[] = [];
  loader.loadMeshCb = (path, _manager, material, done) => {
    try {
      if (!/\.obj$/i.test(path)) throw new Error('only .obj meshes are supported by this helper');
      const group = new OBJLoader().parse(readFileSync(path, 'utf8'));
      let vertices = 0;
      group.traverse((o: Object3D) => {
        if (o instanceof Mesh) {
          vertices += o.geometry.getAttribute('position')?.count ?? 0;
          if (material) o.material = material;
        }
      });
      if (vertices === 0) throw new Error('OBJ contains no geometry');
      meshCount++;
      done(group);
    } catch (err) {
      // Not passed on to urdf-loader (it would only console.error it): we throw below.
      failures.push(`${path}: ${(err as Error).message}`);
    }
  };

  // Synchronous: loadMeshCb above completes every mesh before parse() returns.
  const robot = loader.parse(text);
  if (failures.length > 0) {
    throw new Error(`parseWithUrdfLoader: ${failures.length} mesh(es) failed to load from ${absPath}:\n  ${failures.join('\n  ')}`);
  }

  const joints: ParsedUrdfJoint[] = Object.values(robot.joints).map((j) => ({
    name: j.name,
    type: j.jointType,
    axis: [j.axis.x, j.axis.y, j.axis.z],
    lower: Number(j.limit.lower),
    upper: Number(j.limit.upper),
  }));
  return { links: Object.keys(robot.links), joints, meshCount };
}
