/** The library API: `import { ... } from 'partrm'`. */
export * from './core/types.js';
export * from './core/camera.js';
export * from './core/math.js';
export * from './core/mesh.js';
export { Rng, mixSeed } from './core/random.js';
export { encodeNpy, decodeNpy } from './core/npy.js';
export { CATEGORIES, UNSEEN_CATEGORIES, parseCategory, linkTransforms, toUrdf, type ArticulatedObject, type Category } from './dataset/articulated.js';
export { generateObject } from './dataset/categories.js';
export { generateDataset, DEFAULT_GENERATE, type GenerateOptions } from './dataset/generate.js';
export { readDatasetIndex } from './dataset/read.js';
export type { DatasetIndex, ObjectEntry, StateEntry, DragEntry } from './dataset/layout.js';
export { renderScene, type RenderItem, type RenderOutput } from './dataset/render.js';
export { serializeUrdf, type UrdfRobot } from './urdf/document.js';
