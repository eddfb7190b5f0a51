/** The PartRM model runtime: manifest, tensors, onnxruntime session (worker thread), GaussianSets. */
export { ManifestSchema, loadManifest, parseManifest, type ManifestJson, type ModelManifest } from './manifest.js';
export {
  buildDragTensors,
  buildImagesTensor,
  checkDrag,
  compositeOnBackground,
  normalizeToPlanes,
  pluckerRays,
  resizeBilinear,
  resizeForModel,
  downsampleBox,
  toDragSpace,
} from './preprocess.js';
export { GAUSSIAN_PARAMS, gaussiansFromOutput, modelToWorldGaussians } from './postprocess.js';
export { OnnxSession, type ExecutionProvider, type OnnxSessionOptions, type SessionInfo, type TensorData, type TensorInfo } from './session.js';
export { PartRMModel, type Prediction, type PredictRequest } from './model.js';
