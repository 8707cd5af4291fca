// LibTorch modules to ONNX: export_module() writes a module's eval-mode
// computation into an onnx::Graph (io/onnx.h) node by node. It recognises
// LibTorch's module types (Sequential, Linear, Conv2d, ConvTranspose2d,
// BatchNorm1d/2d and duel's SyncBatchNorm2d (running statistics),
// InstanceNorm2d, ReLU, LeakyReLU, PReLU, Tanh, Sigmoid, Dropout (identity),
// ReflectionPad2d, ZeroPad2d, Identity) and any module implementing
// onnx::Exportable; any other type stops the export with a duel::Error
// naming the model, the module's path and its type. The graph writer knows
// no network type; this conversion lives in nn, beside what it converts.
#pragma once
#include <torch/nn/module.h>

#include <string>

#include "duel/io/onnx.h"

namespace duel::onnx {

// The module `m` (at `path`, for messages) applied to the value x of graph g,
// in eval-mode semantics; returns the name of its output value.
std::string export_module(Graph& g, const torch::nn::Module& m, const std::string& x, const std::string& path);

}  // namespace duel::onnx
