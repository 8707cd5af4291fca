// Weight initialisation and small gradient helpers shared by every net.
#pragma once
#include <torch/nn/module.h>

#include <string>

namespace duel {

// "normal": conv/linear weights ~ N(0, 0.02), biases 0, norm scales ~ N(1, 0.02)
// (the DCGAN recipe). "default": leave LibTorch's initialisation.
void init_weights(torch::nn::Module& net, const std::string& scheme);

// Drops gradients instead of zeroing them: the next backward writes fresh
// tensors, saving a pass over every gradient.
void clear_grads(torch::nn::Module& net);
// Switches gradient tracking of every parameter (freezing a net for the other player's update).
void set_requires_grad(torch::nn::Module& net, bool on);

}  // namespace duel
