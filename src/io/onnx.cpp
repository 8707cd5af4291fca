// ONNX graph builder and ModelProto writer; see include/duel/io/onnx.h. It
// knows no network type: modules are converted by nn/onnx_modules.cpp.
//
// Field numbers are those of onnx/onnx.proto (IR version 8):
//   ModelProto      ir_version 1, producer_name 2, producer_version 3, doc_string 6,
//                   graph 7, opset_import 8, metadata_props 14
//   OperatorSetId   domain 1, version 2
//   GraphProto      node 1, name 2, initializer 5, doc_string 10, input 11, output 12
//   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto  name 1, f 2, i 3, s 4, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, INTS 7)
//   TensorProto     dims 1, data_type 2, name 8, raw_data 9
//   ValueInfoProto  name 1, type 2, doc_string 3
//   TypeProto       tensor_type 1 { elem_type 1, shape 2 { dim 1 { dim_value 1 | dim_param 2 } } }
//   StringStringEntryProto key 1, value 2
#include "duel/io/onnx.h"


#include <algorithm>
#include <cstring>

#include "duel/core/error.h"
#include "duel/io/protobuf.h"

namespace duel::onnx {

using protobuf::put_bytes;
using protobuf::put_float;
using protobuf::put_int;

Attribute Attribute::i(std::string name, int64_t v) {
  Attribute a;
  put_bytes(a.bytes, 1, name);
  put_int(a.bytes, 3, v);
  put_int(a.bytes, 20, 2);
  return a;
}

Attribute Attribute::f(std::string name, float v) {
  Attribute a;
  put_bytes(a.bytes, 1, name);
  put_float(a.bytes, 2, v);
  put_int(a.bytes, 20, 1);
  return a;
}

Attribute Attribute::ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  put_bytes(a.bytes, 1, name);
  for (int64_t x : v) put_int(a.bytes, 8, x);
  put_int(a.bytes, 20, 7);
  return a;
}

Attribute Attribute::s(std::string name, std::string v) {
  Attribute a;
  put_bytes(a.bytes, 1, name);
  put_bytes(a.bytes, 4, v);
  put_int(a.bytes, 20, 3);
  return a;
}

std::string value_info_bytes(const std::string& name, ElemType type, const std::vector<Dim>& dims,
                             const std::string& doc) {
  std::string shape;
  for (const auto& d : dims) {
    std::string dim;
    if (d.param.empty()) put_int(dim, 1, d.value);
    else put_bytes(dim, 2, d.param);
    put_bytes(shape, 1, dim);
  }
  std::string tensor;
  put_int(tensor, 1, type);
  put_bytes(tensor, 2, shape);
  std::string type_proto;
  put_bytes(type_proto, 1, tensor);
  std::string out;
  put_bytes(out, 1, name);
  put_bytes(out, 2, type_proto);
  if (!doc.empty()) put_bytes(out, 3, doc);
  return out;
}

std::string tensor_bytes(const std::string& name, const torch::Tensor& t) {
  const uint16_t probe = 1;
  require(*reinterpret_cast<const uint8_t*>(&probe) == 1, "the ONNX writer assumes a little-endian machine",
          "run duel on x86-64 or ARM64");
  const bool is_int = t.scalar_type() == torch::kInt64;
  auto data = t.detach().to(torch::kCPU, is_int ? torch::kInt64 : torch::kFloat32).contiguous();
  std::string out;
  for (int64_t i = 0; i < data.dim(); ++i) put_int(out, 1, data.size(i));
  put_int(out, 2, is_int ? kInt64 : kFloat);
  put_bytes(out, 8, name);
  std::string raw(size_t(data.numel()) * data.element_size(), '\0');
  if (!raw.empty()) std::memcpy(&raw[0], data.data_ptr(), raw.size());
  put_bytes(out, 9, raw);
  return out;
}

Graph::Graph(std::string owner) : owner_(std::move(owner)) {}

std::string Graph::fresh(const std::string& hint) { return hint + "_" + std::to_string(counter_++); }

std::string Graph::input(const std::string& name, ElemType type, const std::vector<Dim>& dims,
                         const std::string& doc) {
  inputs_.push_back(value_info_bytes(name, type, dims, doc));
  return name;
}

void Graph::output(const std::string& value, const std::string& name, ElemType type, const std::vector<Dim>& dims,
                   const std::string& doc) {
  if (value != name) {
    std::string n;
    put_bytes(n, 1, value);
    put_bytes(n, 2, name);
    put_bytes(n, 3, "output_" + name);
    put_bytes(n, 4, "Identity");
    nodes_.push_back(n);
  }
  outputs_.push_back(value_info_bytes(name, type, dims, doc));
}

std::string Graph::constant(const std::string& hint, const torch::Tensor& t) {
  const std::string name = fresh(hint);
  initializers_.push_back(tensor_bytes(name, t));
  return name;
}

std::string Graph::node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<Attribute>& attributes) {
  std::string out_name = fresh(op);
  std::string n;
  for (const auto& in : inputs) put_bytes(n, 1, in);  // "" marks an omitted optional input
  put_bytes(n, 2, out_name);
  put_bytes(n, 3, out_name);
  put_bytes(n, 4, op);
  for (const auto& a : attributes) put_bytes(n, 5, a.bytes);
  nodes_.push_back(n);
  if (std::find(op_types_.begin(), op_types_.end(), op) == op_types_.end()) op_types_.push_back(op);
  return out_name;
}

void Graph::unsupported(const std::string& what, const std::string& path) const {
  throw Error("model '" + owner_ + "' cannot be exported to ONNX: " + what + " (at " + path +
                  ") has no ONNX mapping in duel's exporter",
              "export supports the modules listed in docs/export.md; other models cannot be exported yet");
}

std::string Graph::cat(const std::vector<std::string>& xs, int64_t axis) {
  return node("Concat", xs, {Attribute::i("axis", axis)});
}

std::string Graph::unsqueeze(const std::string& x, const std::vector<int64_t>& axes) {
  return node("Unsqueeze", {x, constant("axes", torch::tensor(axes, torch::kInt64))});
}

std::string Graph::reshape(const std::string& x, const std::vector<int64_t>& shape) {
  return node("Reshape", {x, constant("shape", torch::tensor(shape, torch::kInt64))});
}

std::string Graph::gather_rows(const std::string& table, const std::string& indices) {
  return node("Gather", {table, indices}, {Attribute::i("axis", 0)});
}

std::string Graph::pixel_shuffle(const std::string& x, int64_t r) {
  // DepthToSpace in CRD order reads channel c*r*r + i*r + j for offset (i, j), as pixel_shuffle does.
  return node("DepthToSpace", {x}, {Attribute::i("blocksize", r), Attribute::s("mode", "CRD")});
}

std::string Graph::graph_bytes(const std::string& doc) const {
  std::string g;
  for (const auto& n : nodes_) put_bytes(g, 1, n);
  put_bytes(g, 2, owner_ + "_generator");
  for (const auto& t : initializers_) put_bytes(g, 5, t);
  if (!doc.empty()) put_bytes(g, 10, doc);
  for (const auto& v : inputs_) put_bytes(g, 11, v);
  for (const auto& v : outputs_) put_bytes(g, 12, v);
  return g;
}

std::string model_bytes(const Graph& graph, const ModelInfo& info) {
  std::string m;
  put_int(m, 1, kIrVersion);
  put_bytes(m, 2, "duel");
  put_bytes(m, 3, info.producer_version);
  if (!info.doc.empty()) put_bytes(m, 6, info.doc);
  put_bytes(m, 7, graph.graph_bytes(info.doc));
  std::string opset;
  put_bytes(opset, 1, "");
  put_int(opset, 2, kOpsetVersion);
  put_bytes(m, 8, opset);
  for (const auto& [k, v] : info.metadata) {
    std::string e;
    put_bytes(e, 1, k);
    put_bytes(e, 2, v);
    put_bytes(m, 14, e);
  }
  return m;
}

}  // namespace duel::onnx
