// Translating images of any size through an image-to-image model in tiles.
//
// A model's translate() accepts inputs whose sides are multiples of its
// size_multiple() and, on a small device, only so many pixels at a time.
// translate_tiled() pads the input by reflection to a multiple, cuts it into
// equal overlapping tiles, translates them in batches and stitches the
// outputs back (center-crop stitching: the seam between two neighbouring
// tiles lies in the middle of their overlap, so each output pixel comes from
// the tile in which it has at least `overlap` input pixels of context on
// every inner side), then crops the result to (h * scale, w * scale).
// For a model whose output pixel depends only on its own input pixel (or on
// a neighbourhood smaller than the overlap) the tiled result equals the
// untiled one exactly.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace duel {

class GanModel;

struct TileOptions {
  int64_t tile = 128;     // tile side on the input (low-resolution) side, rounded down to a multiple of size_multiple()
  int64_t overlap = 8;    // input pixels of context kept on each inner side of a tile
  int64_t batch = 8;      // tiles per translate() call
  std::string direction = "AtoB";
  torch::Device device = torch::kCPU;  // where translate() runs; tiles move there and back
};

// Start offsets of tiles of side `tile` covering [0, length): 0, step, 2 step,
// ... and finally length - tile, so every tile lies inside and the last one
// ends at length. Requires 1 <= tile <= length and step >= 1.
std::vector<int64_t> tile_starts(int64_t length, int64_t tile, int64_t step);

// Pads [N, C, h, w] at the bottom and right to sides that are multiples of
// `multiple`: by reflection where the image is large enough, else by
// repeating its edge. Returns the input itself when nothing is missing.
torch::Tensor pad_to_multiple(const torch::Tensor& images, int64_t multiple);

// images [N, C, h, w] in [-1, 1] (any h, w) -> model.translate() of them,
// [N, C', h * scale, w * scale], on the images' device. Inputs no larger than
// one tile are translated whole (after padding). Requires a translating
// model, a direction it knows, tile >= size_multiple() and, when more than
// one tile is needed, tile - 2 * overlap >= size_multiple(); throws
// duel::Error otherwise.
torch::Tensor translate_tiled(GanModel& model, const torch::Tensor& images, const TileOptions& options = {});

}  // namespace duel
