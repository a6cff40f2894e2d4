// The Python text the PyTorch exporter (torch_export.cpp) assembles a file from: helper
// functions, one nn.Module class per leaf op that needs one, one class per built-in block kind,
// and the file's I/O (safetensors and .npy readers, the .npy writer).
//
// - Each entry has an id (a Python name), the ids it uses and its text. The exporter emits the
//   entries a graph needs and everything they use, in this table's order (which puts every entry
//   after the ones it uses).
// - A block class's text holds two markers the exporter fills from the registry (core/registry.h)
//   so that the Python defaults are Formwork's: "@doc" (the docstring: the OpDef's help) and
//   "@init" (`def __init__(self, <every attribute>=<its default>,  # <its help>`). The
//   metaformer_stage class also holds "@block_kwargs" (every metaformer_block attribute but dim,
//   passed through to its blocks).
// - Block classes must build exactly the children their kind's BuildFn builds
//   (core/blocks_builtin.cpp): same module names, same parameters, same forward. The exporter uses
//   them only for nodes whose children are what their attributes build; tests/python/
//   test_export_torch.py checks names, shapes and logits on every template.
#pragma once
#include <string>
#include <vector>

namespace fw::torch_export {

struct PyEntry {
  std::string id;                 // Python name: "layer_norm2d", "LayerNorm2d", "MetaFormerBlock"
  std::vector<std::string> uses;  // ids of the entries its text calls
  std::string text;               // Python source, ending in a newline
  std::string kind;               // block classes: the registry kind it builds ("" otherwise)
};

// Every entry, dependencies first.
const std::vector<PyEntry>& python_library();

}  // namespace fw::torch_export
