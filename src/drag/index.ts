/** Drag propagation: segmenters (weight-free default, SAM-style ONNX) and N-drag sampling. */
export { type Mask, type Segmenter, checkPrompt, maskArea, maskIou, pixelUnder, segmentDownscaled } from './segmenter.js';
export { DEFAULT_GRAPH_SEGMENTER, GraphSegmenter, felzenszwalb, maskThickness, type GraphSegmenterOptions } from './graph.js';
export { DEFAULT_REGION_GROW, RegionGrowSegmenter, fillHoles, foregroundOf, smoothRgb, type RegionGrowOptions } from './region.js';
export { SAM_DECODER_INPUTS, SAM_PIXEL_MEAN, SAM_PIXEL_STD, SamOnnxSegmenter, samResizeShape, type SamOnnxOptions } from './sam.js';
export { erodeMask, propagateDrags, propagateOperatorDrags, type PropagateOptions, type PropagationResult } from './propagate.js';
export { evaluateSegmenter, type EvaluateOptions, type SegmenterScore } from './evaluate.js';
