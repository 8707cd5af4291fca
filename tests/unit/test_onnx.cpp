// ONNX export: the protobuf wire primitives and the ONNX messages built from
// them, against byte strings written out by hand from the field numbers of
// onnx.proto; the module visitor's refusal of modules it cannot map; the
// generators' graphs (op types, inputs, outputs) for the registered models.
// Numerical agreement with LibTorch is checked in ONNX Runtime by
// tests/cli/export_onnx.sh.
#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/script.h>

#include <algorithm>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/npy.h"
#include "duel/io/onnx.h"
#include "duel/io/protobuf.h"
#include "duel/io/web_page.h"
#include "duel/models/model.h"
#include "duel/nn/onnx_modules.h"
#include "duel/models/capabilities.h"

using namespace duel;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(char(x));
  return s;
}

bool has_op(const onnx::Graph& g, const std::string& op) {
  return std::find(g.op_types().begin(), g.op_types().end(), op) != g.op_types().end();
}

}  // namespace

TEST(Protobuf, VarintsAndFieldsMatchTheWireFormat) {
  std::string s;
  protobuf::put_varint(s, 1);
  EXPECT_EQ(s, bytes({0x01}));
  s.clear();
  protobuf::put_varint(s, 300);  // the protobuf documentation's example
  EXPECT_EQ(s, bytes({0xAC, 0x02}));
  s.clear();
  protobuf::put_varint(s, uint64_t(int64_t(-1)));  // ten bytes, two's complement
  EXPECT_EQ(s, bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  s.clear();
  protobuf::put_int(s, 1, 150);
  EXPECT_EQ(s, bytes({0x08, 0x96, 0x01}));
  s.clear();
  protobuf::put_bytes(s, 2, "testing");
  EXPECT_EQ(s, bytes({0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
  s.clear();
  protobuf::put_float(s, 2, 1.0f);
  EXPECT_EQ(s, bytes({0x15, 0x00, 0x00, 0x80, 0x3F}));
  s.clear();
  protobuf::put_double(s, 1, -2.0);
  EXPECT_EQ(s, bytes({0x09, 0, 0, 0, 0, 0, 0, 0x00, 0xC0}));
  s.clear();
  protobuf::put_int(s, 20, 7);  // a field number above 15 takes a two-byte key
  EXPECT_EQ(s, bytes({0xA0, 0x01, 0x07}));
}

TEST(Onnx, ValueInfoWithASymbolicBatch) {
  // ValueInfoProto{name "z", type{tensor_type{elem_type FLOAT, shape{dim{dim_param "N"}, dim{dim_value 3}}}}}
  const std::string dims = bytes({0x0A, 0x03, 0x12, 0x01, 'N', 0x0A, 0x02, 0x08, 0x03});
  const std::string tensor = bytes({0x08, 0x01, 0x12, 0x09}) + dims;
  const std::string type = bytes({0x0A, 0x0D}) + tensor;
  EXPECT_EQ(onnx::value_info_bytes("z", onnx::kFloat, {"N", 3}, ""), bytes({0x0A, 0x01, 'z', 0x12, 0x0F}) + type);
  // A doc string is field 3.
  EXPECT_EQ(onnx::value_info_bytes("z", onnx::kFloat, {"N", 3}, "d"),
            bytes({0x0A, 0x01, 'z', 0x12, 0x0F}) + type + bytes({0x1A, 0x01, 'd'}));
}

TEST(Onnx, TensorsAreRawLittleEndian) {
  EXPECT_EQ(onnx::tensor_bytes("w", torch::tensor({1.0f, 2.0f})),
            bytes({0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 'w', 0x4A, 0x08, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40}));
  // int64 [1, 1]: dims 1, 1; data_type INT64 (7); 8 raw bytes of -2
  EXPECT_EQ(onnx::tensor_bytes("i", torch::tensor({int64_t(-2)}, torch::kInt64).reshape({1, 1})),
            bytes({0x08, 0x01, 0x08, 0x01, 0x10, 0x07, 0x42, 0x01, 'i', 0x4A, 0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                   0xFF, 0xFF}));
  // float64 tensors are written as float32
  EXPECT_EQ(onnx::tensor_bytes("d", torch::tensor({0.5}, torch::kFloat64)),
            bytes({0x08, 0x01, 0x10, 0x01, 0x42, 0x01, 'd', 0x4A, 0x04, 0, 0, 0, 0x3F}));
}

TEST(Onnx, Attributes) {
  EXPECT_EQ(onnx::Attribute::i("axis", 1).bytes, bytes({0x0A, 0x04, 'a', 'x', 'i', 's', 0x18, 0x01, 0xA0, 0x01, 0x02}));
  EXPECT_EQ(onnx::Attribute::f("alpha", 0.5f).bytes,
            bytes({0x0A, 0x05, 'a', 'l', 'p', 'h', 'a', 0x15, 0, 0, 0, 0x3F, 0xA0, 0x01, 0x01}));
  EXPECT_EQ(onnx::Attribute::ints("p", {2, -1}).bytes,
            bytes({0x0A, 0x01, 'p', 0x40, 0x02, 0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xA0,
                   0x01, 0x07}));
  EXPECT_EQ(onnx::Attribute::s("mode", "CRD").bytes,
            bytes({0x0A, 0x04, 'm', 'o', 'd', 'e', 0x22, 0x03, 'C', 'R', 'D', 0xA0, 0x01, 0x03}));
}

TEST(Onnx, ModelHeaderDeclaresIrVersionAndOpset) {
  onnx::Graph g("toy");
  auto x = g.input("x", onnx::kFloat, {"N", 2}, "");
  g.output(g.node("Relu", {x}), "y", onnx::kFloat, {"N", 2}, "");
  onnx::ModelInfo info;
  info.metadata = {{"k", "v"}};
  const std::string m = onnx::model_bytes(g, info);
  EXPECT_EQ(m.substr(0, 2), bytes({0x08, 0x08}));  // ir_version 8
  // opset_import {domain "", version 17}
  EXPECT_NE(m.find(bytes({0x42, 0x04, 0x0A, 0x00, 0x10, 0x11})), std::string::npos);
  // metadata_props {key "k", value "v"}
  EXPECT_NE(m.find(bytes({0x72, 0x06, 0x0A, 0x01, 'k', 0x12, 0x01, 'v'})), std::string::npos);
  // The Relu node and the Identity that names the output "y".
  EXPECT_NE(m.find("Relu"), std::string::npos);
  EXPECT_NE(m.find("Identity"), std::string::npos);
  EXPECT_EQ(g.node_count(), 2);
}

TEST(Onnx, UnknownModulesAreRefusedByName) {
  namespace nn = torch::nn;
  onnx::Graph g("toy");
  auto x = g.input("x", onnx::kFloat, {"N", 4}, "");
  nn::Sequential ok(nn::Linear(4, 4), nn::ReLU(), nn::Tanh());
  EXPECT_NO_THROW(onnx::export_module(g, *ok, x, "G"));
  EXPECT_TRUE(has_op(g, "Gemm") && has_op(g, "Relu") && has_op(g, "Tanh"));

  nn::Sequential bad(nn::Linear(4, 4), nn::Softplus());
  try {
    onnx::export_module(g, *bad, x, "G.body");
    FAIL() << "a Softplus was exported";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("model 'toy' cannot be exported to ONNX"), std::string::npos) << what;
    EXPECT_NE(what.find("Softplus"), std::string::npos) << what;
    EXPECT_NE(what.find("G.body.1"), std::string::npos) << what;
  }
  // Batch norm without running statistics has no eval-mode meaning to export.
  nn::Sequential no_stats(nn::BatchNorm2d(nn::BatchNorm2dOptions(3).track_running_stats(false)));
  EXPECT_THROW(onnx::export_module(g, *no_stats, x, "G"), Error);
}

TEST(Onnx, GeneratorsOfTheRegisteredModels) {
  struct Case {
    std::string model;
    DataShape shape;
    std::vector<std::string> ops;
  };
  DataShape mnist;
  DataShape labelled = mnist;
  labelled.num_classes = 10;
  DataShape rgb;
  rgb.channels = 3;
  rgb.size = 32;
  DataShape pair = rgb;
  pair.target_channels = 3;
  pair.paired = true;
  DataShape unpaired = pair;
  unpaired.paired = false;
  const std::vector<Case> cases{
      {"mlp", mnist, {"Gemm", "LeakyRelu", "Tanh", "Reshape"}},
      {"dcgan", mnist, {"Unsqueeze", "ConvTranspose", "BatchNormalization", "Relu", "Tanh"}},
      {"cgan", labelled, {"Gather", "Concat", "ConvTranspose"}},
      {"infogan", mnist, {"ConvTranspose"}},
      {"aae", mnist, {"ConvTranspose"}},
      {"pix2pix", pair, {"Conv", "LeakyRelu", "Concat", "ConvTranspose", "Tanh"}},
      {"cyclegan", unpaired, {"Pad", "InstanceNormalization", "Add", "ConvTranspose"}},
      {"srresnet", rgb, {"PRelu", "DepthToSpace", "Add", "BatchNormalization"}},
  };
  for (const auto& c : cases) {
    Config cfg;
    for (const std::string s : {"model.name=" + c.model, std::string("model.g_width=4"), std::string("model.d_width=4"),
                                std::string("model.latent_dim=8"), std::string("model.resnet_blocks=1"),
                                std::string("model.sr_blocks=1")})
      cfg.set_from_string(s);
    apply_model_defaults(cfg);
    auto model = create_model(cfg, c.shape);
    auto* e = dynamic_cast<onnx::GeneratorExport*>(model.get());
    ASSERT_NE(e, nullptr) << c.model;
    onnx::Graph g(c.model);
    const auto meta = e->export_generator(g, capability<ImageTranslator>(*model) ? "AtoB" : "");
    for (const auto& op : c.ops) EXPECT_TRUE(has_op(g, op)) << c.model << " lacks " << op;
    EXPECT_FALSE(has_op(g, "Dropout")) << c.model << ": dropout is the identity in eval mode";
    const std::string m = onnx::model_bytes(g, {});
    EXPECT_NE(m.find(onnx::value_info_bytes("image", onnx::kFloat, {}, "").substr(0, 7)), std::string::npos)
        << c.model << " has no output named image";
    if (capability<ImageTranslator>(*model)) {
      EXPECT_NE(m.find("\x0A\x05input"), std::string::npos) << c.model;
    } else {
      EXPECT_NE(m.find("\x0A\x01z"), std::string::npos) << c.model;
      ASSERT_FALSE(meta.empty());
      EXPECT_EQ(meta[0].first, "latent_layout");
    }
    EXPECT_EQ(m.find("label") != std::string::npos, c.model == "cgan") << c.model;
  }
}

// Every registered model, present and future: built on the first data shape
// it accepts, it either exports a graph with the documented output or
// refuses with a duel::Error that names it.
TEST(Onnx, EveryRegisteredModelExportsOrSaysWhyNot) {
  DataShape labelled;
  labelled.num_classes = 10;
  DataShape pair;
  pair.channels = pair.target_channels = 3;
  pair.size = 32;
  pair.paired = true;
  DataShape unpaired = pair;
  unpaired.paired = false;
  DataShape captioned = labelled;  // text2img
  captioned.vocabulary = {"<pad>", "a", "coat", "dark"};
  captioned.text_length = 4;
  // The scripted model's networks: TorchScript written here (z [N, 8] -> 1x28x28; x -> one score).
  const std::string dir = ::testing::TempDir();
  torch::jit::Module g("G"), d("D");
  g.register_parameter("w", torch::randn({8, 28 * 28}) * 0.01, false);
  g.define("def forward(self, z):\n    return torch.tanh(torch.matmul(z, self.w)).view(-1, 1, 28, 28)\n");
  d.register_parameter("w", torch::randn({28 * 28, 1}) * 0.01, false);
  d.define("def forward(self, x):\n    return torch.matmul(x.flatten(1), self.w)\n");
  g.save(dir + "/onnx_G.pt");
  d.save(dir + "/onnx_D.pt");
  int exported = 0;
  for (const auto& [name, summary] : registered_models()) {
    std::unique_ptr<GanModel> model;
    for (const auto& shape : {labelled, pair, unpaired, captioned}) {
      Config cfg;
      for (const std::string s : {"model.name=" + name, std::string("model.g_width=4"), std::string("model.d_width=4"),
                                  std::string("model.latent_dim=8"), std::string("model.resnet_blocks=1"),
                                  std::string("model.sr_blocks=1"), "model.generator=" + dir + "/onnx_G.pt",
                                  "model.discriminator=" + dir + "/onnx_D.pt"})
        cfg.set_from_string(s);
      apply_model_defaults(cfg);
      try {
        model = create_model(cfg, shape);
        break;
      } catch (const Error&) {
      }
    }
    ASSERT_TRUE(model) << name << ": no test shape fits it; add one here";
    auto* e = dynamic_cast<onnx::GeneratorExport*>(model.get());
    if (!e) continue;  // duel export refuses it by name (src/apps/export.cpp)
    onnx::Graph g(name);
    try {
      e->export_generator(g, capability<ImageTranslator>(*model) ? require_capability<ImageTranslator>(*model).directions().front() : "");
      EXPECT_NE(onnx::model_bytes(g, {}).find("\x0A\x05image"), std::string::npos) << name;
      ++exported;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find("model '" + name + "'"), std::string::npos) << err.what();
    }
  }
  EXPECT_GE(exported, 11);  // mlp, dcgan, cgan, wgan, wgan-gp, infogan, aae, pix2pix, cyclegan, srgan, srresnet
}

TEST(Onnx, WebPageEmbedsTheModelFacts) {
  GeneratorPage p;
  p.model = "cgan";
  p.title = "duel: <cgan>";
  p.trained = "step 3 on mnist";
  p.z_width = 8;
  p.latent_layout = "normal:8";
  p.classes = 2;
  p.class_names = {"a</script>", "b"};
  const std::string html = generator_page_html(p);
  EXPECT_NE(html.find("<title>duel: &lt;cgan&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("\"classes\": 2"), std::string::npos);
  EXPECT_NE(html.find("\"latent_layout\": \"normal:8\""), std::string::npos);
  EXPECT_EQ(html.find("a</script>"), std::string::npos);  // cannot close the script element early
  EXPECT_NE(html.find("ort.env.wasm.numThreads = 1"), std::string::npos);
}

TEST(Npy, Int64TensorsKeepTheirType) {
  const std::string b = npy_bytes(torch::tensor({int64_t(3), int64_t(-1)}, torch::kInt64));
  EXPECT_NE(b.find("'descr': '<i8'"), std::string::npos);
  ASSERT_EQ((b.size() - 16) % 64, 0u);  // the data starts on a 64-byte boundary
  EXPECT_EQ(b.substr(b.size() - 16), bytes({3, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}
