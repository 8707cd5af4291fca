// ONNX export: a small graph builder and ModelProto writer, encoded by hand
// in the protobuf wire format (io/protobuf.h), since LibTorch's C++ API has
// no ONNX exporter.
//
// A model writes its generator's inference graph (onnx::GeneratorExport::export_generator)
// by declaring the graph's inputs and walking its nets in forward order:
//
//   onnx::Graph g("dcgan");
//   auto z = g.input("z", onnx::kFloat, {"N", 100}, "latent noise ~ N(0, I)");
//   auto x = g.unsqueeze(z, {2, 3});           // [N, 100] -> [N, 100, 1, 1]
//   x = onnx::export_module(g, *body, x, "G.body");  // the Sequential, layer by layer (nn/onnx_modules.h)
//   g.output(x, "image", onnx::kFloat, {"N", 1, 28, 28}, "image in [-1, 1]");
//   write_file_atomic("g.onnx", onnx::model_bytes(g, info));
//
// onnx::export_module() (nn/onnx_modules.h, beside the modules it knows; this
// writer knows no network type) is the generic part: it recognises LibTorch's module
// types (Sequential, Linear, Conv2d, ConvTranspose2d, BatchNorm2d (eval:
// running statistics), InstanceNorm2d, ReLU, LeakyReLU, PReLU, Tanh,
// Sigmoid, Dropout (identity in eval), ReflectionPad2d, ZeroPad2d, Identity)
// and any module that implements onnx::Exportable (duel's own blocks:
// residual blocks, pixel shuffle, the oneDNN transposed convolution). Any
// other module type is refused with a duel::Error naming the model, the
// module's path and its type, so a new model whose nets are built from these
// pieces exports with a few lines and an unknown piece never exports wrongly.
//
// The files declare IR version 8 and opset 17 of the default domain (tested
// on ONNX Runtime 1.30), float32 weights as raw little-endian initializers.
#pragma once
#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace duel::onnx {

constexpr int64_t kIrVersion = 8;
constexpr int64_t kOpsetVersion = 17;

// TensorProto.DataType values.
enum ElemType : int32_t { kFloat = 1, kInt64 = 7 };

// One dimension of a declared input/output: a fixed size or a symbolic name
// ("N": dynamic batch).
struct Dim {
  Dim(int64_t v) : value(v) {}                 // NOLINT: implicit on purpose ({"N", 3, 28, 28})
  Dim(const char* p) : param(p) {}             // NOLINT
  Dim(std::string p) : param(std::move(p)) {}  // NOLINT
  int64_t value = 0;
  std::string param;
};

// A node attribute (AttributeProto): int, float, ints, floats or string.
struct Attribute {
  static Attribute i(std::string name, int64_t v);
  static Attribute f(std::string name, float v);
  static Attribute ints(std::string name, std::vector<int64_t> v);
  static Attribute s(std::string name, std::string v);
  std::string bytes;  // the serialized AttributeProto
};

class Graph;

// Implemented by duel's own modules so onnx::export_module() can export them
// wherever they appear: x is the name of the module's input value; returns
// the name of its output value.
class Exportable {
 public:
  virtual ~Exportable() = default;
  virtual std::string export_onnx(Graph& graph, const std::string& x, const std::string& path) const = 0;
};

class Graph {
 public:
  // `owner` names the model in error messages ("dcgan").
  explicit Graph(std::string owner);

  // Declares a graph input and returns its value name (= name).
  std::string input(const std::string& name, ElemType type, const std::vector<Dim>& dims, const std::string& doc);
  // Declares `value` as the graph output `name` (through an Identity node when the names differ).
  void output(const std::string& value, const std::string& name, ElemType type, const std::vector<Dim>& dims,
              const std::string& doc);
  // A constant (initializer) holding t (float32 or int64, copied now); returns its value name.
  std::string constant(const std::string& hint, const torch::Tensor& t);
  // Appends a node with one output and returns the output's value name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<Attribute>& attributes = {});

  // Common functions, named after their LibTorch counterparts.
  std::string add(const std::string& a, const std::string& b) { return node("Add", {a, b}); }
  std::string cat(const std::vector<std::string>& xs, int64_t axis);
  std::string unsqueeze(const std::string& x, const std::vector<int64_t>& axes);
  // Reshape to `shape` (0 keeps that input dimension, -1 is inferred).
  std::string reshape(const std::string& x, const std::vector<int64_t>& shape);
  // table [K, D] rows picked by int64 indices [N] -> [N, D] (embedding; one-hot with an identity table).
  std::string gather_rows(const std::string& table, const std::string& indices);
  // [N, C*r*r, H, W] -> [N, C, H*r, W*r] as duel::pixel_shuffle (DepthToSpace, CRD).
  std::string pixel_shuffle(const std::string& x, int64_t r);

  // Throws duel::Error: `what` (at `path`) has no ONNX mapping in this exporter.
  [[noreturn]] void unsupported(const std::string& what, const std::string& path) const;

  const std::string& owner() const { return owner_; }
  int64_t node_count() const { return int64_t(nodes_.size()); }
  // Op types used, in first-use order (for docs and tests).
  const std::vector<std::string>& op_types() const { return op_types_; }
  // The serialized GraphProto.
  std::string graph_bytes(const std::string& doc) const;

 private:
  std::string fresh(const std::string& hint);
  std::string owner_;
  int64_t counter_ = 0;
  std::vector<std::string> nodes_, initializers_, inputs_, outputs_, op_types_;
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Implemented by the models whose generator exports (`duel export` looks for
// it beside the GanModel interface). export_generator writes the generator's
// inference graph exactly as sample() (or translate(input, direction))
// computes it in eval mode, EMA weights included: it declares the inputs
//   "z"      float [N, Z]  the noise as make_noise draws it
//   "label"  int64 [N]     conditional models: the class
//   "input"  float [N, C, H, W] in [-1, 1]  translators, in `direction`
// and the output "image" float [N, C, H, W] in [-1, 1], and returns metadata
// for the file (the layout of z and the like).
class GeneratorExport {
 public:
  virtual ~GeneratorExport() = default;
  virtual Metadata export_generator(Graph& graph, const std::string& direction) = 0;
};

struct ModelInfo {
  std::string doc;                                            // ModelProto.doc_string: the I/O contract
  std::vector<std::pair<std::string, std::string>> metadata;  // metadata_props
  std::string producer_version = "0.1.0";
};

// The serialized ModelProto (ir_version, opset_import, producer, graph, metadata).
std::string model_bytes(const Graph& graph, const ModelInfo& info);

// Byte encodings of the pieces, exposed for tests.
std::string value_info_bytes(const std::string& name, ElemType type, const std::vector<Dim>& dims,
                             const std::string& doc);
std::string tensor_bytes(const std::string& name, const torch::Tensor& t);

}  // namespace duel::onnx
