"""Tools that build what the library reads, offline: outside the library core.

`python -m buildtools.onnx` builds the ONNX encoders' files. The entry points (`ingest`,
`ask`, `bot`) call `buildtools.onnx.ensure_encoder` before they load an encoder; the
library (`core`) never imports this package.
May import: `core`.
"""
