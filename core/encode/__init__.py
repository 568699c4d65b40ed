"""The encoders that turn chunks and questions into vectors.

Owns: the encoder seam and registry (`registry`: each encoder one class declaring its name,
its identity and what it is compatible with), the built-in encoders (`onnx`,
`torch_encoder`), the bundled weights and their sha256 check (`weights`), and the public
entry `embeddings` (load once, identities, mismatch hints). The ONNX files are built by
`buildtools.onnx`, which this package never imports.
May import: `core.errors`, `core.settings`, `core.sections`.
"""
