// Precompiled header for every translation unit of duel: LibTorch's umbrella
// header is ~24 s to parse on its own, so it is parsed once per build.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>
