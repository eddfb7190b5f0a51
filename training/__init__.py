"""PartRM reference model, training on the procedural dataset and ONNX export (see README.md)."""
