/** Reading a generated dataset back (index and arrays), with clear errors for a wrong directory. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '../core/npy.js';
import { DATASET_FORMAT, DATASET_VERSION, type DatasetIndex } from './layout.js';

export async function readDatasetIndex(root: string): Promise<DatasetIndex> {
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`Dataset: ${root} is not a directory`);
  const path = join(root, 'index.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`Dataset: ${path} not found; expected a directory written by "partrm dataset generate"`);
  }
  let index: DatasetIndex;
  try {
    index = JSON.parse(text) as DatasetIndex;
  } catch (e) {
    throw new Error(`Dataset: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (index.format !== DATASET_FORMAT || index.version !== DATASET_VERSION) {
    throw new Error(`Dataset: ${path} is not a ${DATASET_FORMAT} v${DATASET_VERSION} index`);
  }
  return index;
}

export async function readNpy(root: string, rel: string): Promise<{ data: ArrayLike<number>; shape: number[] }> {
  return decodeNpy(await readFile(join(root, rel)));
}
