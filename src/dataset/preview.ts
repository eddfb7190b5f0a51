/**
 * A contact sheet of a generated dataset: one row per object with its label, the states of its
 * first movable part in view 0 (the first tile carries every part's drags as arrows, state 0 to the
 * last state), then other views of the most open state.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePngRgba, encodePngRgba, writeFileAtomic, type RgbaImage } from '../core/image.js';
import { decodeNpy } from '../core/npy.js';
import { blit, createImage, drawArrow, drawRect, drawText, fillCircle, resizeBox, type Rgb } from './draw.js';
import type { DatasetIndex, ObjectEntry } from './layout.js';
import { readDatasetIndex } from './read.js';

const ARROW_COLOURS: Rgb[] = [[220, 30, 30], [20, 90, 230], [10, 160, 60], [240, 140, 0], [160, 40, 200]];

export interface PreviewOptions {
  data: string;
  out: string;
  /** Tile edge in pixels (default 160). */
  tile?: number;
  /** At most this many objects (default 24). */
  maxObjects?: number;
  /** Drags drawn per part (default 8). */
  arrows?: number;
}

async function loadTile(root: string, rel: string, tile: number): Promise<RgbaImage> {
  const img = decodePngRgba(await readFile(join(root, rel)));
  // Composite on white: background pixels carry alpha 0.
  const out = resizeBox(img, tile, tile);
  for (let p = 0; p < out.data.length; p += 4) {
    const a = out.data[p + 3]! / 255;
    for (let c = 0; c < 3; c++) out.data[p + c] = Math.round(out.data[p + c]! * a + 255 * (1 - a));
    out.data[p + 3] = 255;
  }
  return out;
}

async function objectRow(root: string, index: DatasetIndex, obj: ObjectEntry, tile: number, arrows: number): Promise<RgbaImage[]> {
  const tiles: RgbaImage[] = [];
  const first = obj.states.filter((s) => s.joint === 0).sort((a, b) => a.step - b.step);
  const scale = tile / index.generator.size;
  for (const s of first) tiles.push(await loadTile(root, s.rgba[0]!, tile));
  const t0 = tiles[0];
  if (t0) {
    for (const d of obj.drags) {
      const { data, shape } = decodeNpy(await readFile(join(root, d.file)));
      const S = shape[0]!, K = shape[2]!;
      const b = S - 1;
      const n = Math.min(arrows, d.counts[0]![b]!);
      const colour = ARROW_COLOURS[d.joint % ARROW_COLOURS.length]!;
      for (let k = 0; k < n; k++) {
        const o = ((0 * S + b) * K + k) * 4;
        const x0 = data[o]! * scale, y0 = data[o + 1]! * scale, x1 = data[o + 2]! * scale, y1 = data[o + 3]! * scale;
        fillCircle(t0, x0, y0, 2, colour);
        drawArrow(t0, x0, y0, x1, y1, colour, 2, 8);
      }
    }
  }
  const last = first[first.length - 1];
  if (last) {
    const views = last.rgba.length;
    const picks = [...new Set([1, 2, 3, 4, 5].map((k) => Math.round((k * views) / 6) % views))].filter((v) => v !== 0);
    for (const v of picks) tiles.push(await loadTile(root, last.rgba[v]!, tile));
  }
  return tiles;
}

export async function writePreview(options: PreviewOptions): Promise<{ width: number; height: number; objects: number }> {
  const tile = options.tile ?? 160;
  const index = await readDatasetIndex(options.data);
  const objects = index.objects.slice(0, options.maxObjects ?? 24);
  if (objects.length === 0) throw new Error(`Preview: dataset ${options.data} has no objects`);
  const rows = await Promise.all(objects.map((o) => objectRow(options.data, index, o, tile, options.arrows ?? 8)));
  const label = 150;
  const header = 28;
  const gap = 4;
  const cols = Math.max(...rows.map((r) => r.length));
  const width = label + cols * (tile + gap);
  const height = header + rows.length * (tile + gap);
  const sheet = createImage(width, height, [255, 255, 255]);
  drawText(sheet, 6, 8, `${options.data}: ${index.objects.length} objects, ${index.generator.size}px, ${index.generator.views} views. Tiles: states of part 0 (view 0, drags state 0 -> last as arrows), then other views`, [0, 0, 0], 1);
  rows.forEach((r, i) => {
    const obj = objects[i]!;
    const y = header + i * (tile + gap);
    drawText(sheet, 6, y + 6, obj.id.replace(/_/g, ' '), [0, 0, 0], 1);
    drawText(sheet, 6, y + 20, `${obj.split}, ${obj.joints.length} part${obj.joints.length > 1 ? 's' : ''}`, [90, 90, 90], 1);
    obj.joints.forEach((j, k) => drawText(sheet, 6, y + 34 + k * 12, `${j.semantic} ${j.type.slice(0, 3)}`, ARROW_COLOURS[k % ARROW_COLOURS.length]!, 1));
    r.forEach((t, c) => {
      const x = label + c * (tile + gap);
      blit(sheet, t, x, y, 'opaque');
      drawRect(sheet, x, y, tile, tile, [200, 200, 200], 1);
    });
  });
  await writeFileAtomic(options.out, encodePngRgba(sheet));
  return { width, height, objects: objects.length };
}
