// Grad-CAM and attention maps, computed through an execution backend (kernels/backend.h).
//
// Layers are named by module path (`stages.3`, `stages.2.blocks.1`, `blocks.11`,
// `stages.2.blocks.0.token_mixer`); a group or block stands for the value it outputs.
//
// - layer_grid(): where a layer's output lives on a spatial grid. [C,h,w] maps are used as they
//   are. [N,C] token outputs are reshaped to the grid of stride s in {1,2,4,...,64} of the input
//   whose h*w equals N (or N-1: a class token in front, which is dropped) — as
//   pytorch-grad-cam's reshape transforms do for CAFormer's attention stages and for ViT.
//   Errors: "no layer 'x'", "layer 'head.fc' outputs [10]: it has no spatial grid".
// - gradcam(): raw Grad-CAM as pytorch-grad-cam's GradCAM computes it, before upsampling and
//   normalisation: A = the layer's output, score = Σ_b logits[b, class_b], G = ∂score/∂A,
//   α[b,c] = mean_ij G[b,c,i,j], cam[b,i,j] = max(0, Σ_c α[b,c]·A[b,c,i,j]) -> [B, h, w].
//   `classes` has one entry (used for every sample) or one per sample; each must be within the
//   model's classes.
// - CamMethod::GradCamPlusPlus: pytorch-grad-cam's GradCAMPlusPlus (CONTRACT.md): with A and G as
//   above, a = G^2 / (2 G^2 + sum_ij(A) * G^3 + 1e-6) (a = 0 where G = 0),
//   w[b,c] = sum_ij relu(G) * a, cam = relu(sum_c w[b,c] A[b,c]).
// - CamMethod::HiResCam (pytorch-grad-cam's HiResCAM, Draelos & Carin 2020): no spatial averaging,
//   cam = relu(sum_c G[b,c] * A[b,c]) element-wise; CamMethod::LayerCam (pytorch-grad-cam's
//   LayerCAM, Jiang et al. 2021): cam = relu(sum_c relu(G[b,c]) * A[b,c]). Both keep where the
//   gradient is, which Grad-CAM's mean over the grid throws away (the README's localisation study).
//   Caveat: at a layer whose output reaches the logits only through a LayerNorm (a MetaFormer stage
//   before the next stage's downsampling norm) the network is invariant to scaling the activation
//   at a cell, so sum_c G*A = 0 there but for the norm's eps: HiResCAM is then ~1e-6 of its size
//   elsewhere and ranks only that eps term.
//   parse_cam_method("gradcam" | "gradcam++" | "hirescam" | "layercam"), else a fw::UsageError
//   listing them; cam_method_title(): "Grad-CAM", "Grad-CAM++", "HiResCAM", "LayerCAM".
// - attention_maps(): the softmax probabilities [B, heads, N, N] of the one attention node at or
//   under `layer`.
#pragma once
#include <string>
#include <vector>

#include "core/job.h"
#include "kernels/backend.h"

namespace fw {

struct LayerGrid {
  ValueRef value;
  bool tokens = false;   // value is [N, C] per sample
  int64_t prefix = 0;    // tokens dropped in front (class token)
  int64_t channels = 0, h = 0, w = 0;
};

enum class CamMethod { GradCam, GradCamPlusPlus, HiResCam, LayerCam };
inline constexpr CamMethod kCamMethods[] = {CamMethod::GradCam, CamMethod::GradCamPlusPlus,
                                            CamMethod::HiResCam, CamMethod::LayerCam};
CamMethod parse_cam_method(const std::string& name);
const char* cam_method_name(CamMethod m);   // "gradcam", "gradcam++", "hirescam", "layercam"
const char* cam_method_title(CamMethod m);  // "Grad-CAM", ...

LayerGrid layer_grid(const Graph& g, const FlatGraph& fg, const std::string& layer);

// What gradcam() noticed about its map (optional). HiResCAM: `cancellation` = max over cells of
// |sum_c G*A| / max over cells of sum_c |G*A|; below 1e-4 the terms cancel (a layer before a
// LayerNorm, see above), `degenerate` is set and `note` says so in one line. Other methods: 1.
struct CamDiagnostics {
  double cancellation = 1;
  bool degenerate = false;
  std::string note;
};

// Returns the CAM [B, h, w]; `logits` (if given) receives the forward's logits. `control`
// (optional): its cancel flag stops the run at the next op (fw::Cancelled).
Tensor gradcam(Executor& ex, const Graph& g, const Tensor& input, const std::string& layer,
               const std::vector<int64_t>& classes, Tensor* logits = nullptr,
               CamMethod method = CamMethod::GradCam, const JobControl* control = nullptr,
               CamDiagnostics* diagnostics = nullptr);

int attention_op(const Graph& g, const FlatGraph& fg, const std::string& layer);
Tensor attention_maps(Executor& ex, const Graph& g, const Tensor& input, const std::string& layer);

}  // namespace fw
