// Faithfulness of a saliency map (CONTRACT.md, "Views": `gradcam --metrics`), for one image and
// over a dataset.
//
// - saliency(): the cam [h, w] upsampled to H x W bilinearly with align_corners = false, as
//   torch.nn.functional.interpolate(mode="bilinear", align_corners=False) -> [H, W]: torch's
//   source indices and float weights, blended in double and rounded to float once (a border
//   pixel, whose two taps coincide, is that tap exactly). Agrees with torch to a few ulp; unlike
//   torch's float blend, values equal in exact arithmetic stay equal, so their ranking is by index.
// - pixel_order(): flat pixel indices ranked by S descending, ties by lower index (stable sort).
// - faithfulness(): deletion and insertion curves p_0..p_32 (33 points each; x_k deletes / inserts
//   the first floor(k*H*W/32) ranked pixels in every channel of the network's input tensor, i.e.
//   after normalisation; deleted = 0), p_k = softmax(f(x_k))[cls]; AUC = sum_{k<32}(p_k+p_{k+1})/64.
//   With a box (x0, y0, x1, y1; x1, y1 exclusive; widened by `tolerance` pixels on every side) the
//   pointing game: a hit when the first maximum of S in flat order lies in the box.
//   The 66 perturbed inputs run in batches through `ex`; `control` (optional) is checked between
//   batches (an abandoned request throws fw::Cancelled, kernels/backend.h).
// - dataset_faithfulness(): the same for each item of a dataset split (class = the true label,
//   the cam from views/gradcam.h), with means; `pointing_game` only when the dataset has boxes.
//   Items are loaded at the network's input size with the pipeline's fit and channels and
//   normalised with pipeline.norm (core/batches.h sample_tensor, as `eval` does); an empty
//   norm takes the dataset's own (its whole train split), as `eval` does for weights without one.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/input_pipeline.h"
#include "core/job.h"
#include "core/tensor.h"
#include "kernels/backend.h"
#include "views/gradcam.h"

namespace fw {

struct PixelBox {
  int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // x0 <= x < x1, y0 <= y < y1
};

Tensor saliency(const float* cam, int64_t h, int64_t w, int64_t H, int64_t W);
std::vector<int64_t> pixel_order(const Tensor& s);
// The trapezoid AUC of a curve p_0..p_n on [0, 1]: sum_{k<n} (p_k + p_{k+1}) / (2 n).
double curve_auc(const std::vector<double>& p);

struct Faithfulness {
  int64_t cls = 0;
  std::vector<double> deletion, insertion;  // p_0 .. p_32
  double deletion_auc = 0, insertion_auc = 0;
  int64_t peak_x = 0, peak_y = 0;  // the first maximum of S
  std::optional<bool> pointing_hit;  // with a box
};

// `input` is one sample [1, C, H, W] (already normalised, as given to the network).
Faithfulness faithfulness(Executor& ex, const Tensor& input, const Tensor& cam /*[h,w] or [1,h,w]*/,
                          int64_t cls, const std::optional<PixelBox>& box, int64_t tolerance = 0,
                          const JobControl* control = nullptr);

struct DatasetFaithfulness {
  int64_t n = 0;
  std::optional<double> pointing_game;  // hit rate, when the dataset has boxes
  double deletion_auc = 0, insertion_auc = 0;  // means
};

struct DatasetFaithfulnessRequest {
  std::string dataset;          // name or directory (core/datasets.h)
  std::string split = "test";
  int64_t limit = 0;            // 0: all
  std::string layer;
  CamMethod method = CamMethod::GradCam;
  int64_t tolerance = 0;
  bool pointing = false;        // the pointing game was asked for: a dataset without boxes
                                // is an fw::Error (else pointing_game is just left unset)
};

// `pipeline`: how the project turns a dataset item into the network's input (core/input_pipeline.h).
// `control`: progress {done, total} in items, cancellation.
DatasetFaithfulness dataset_faithfulness(Executor& ex, const Graph& g, const InputPipeline& pipeline,
                                         const DatasetFaithfulnessRequest& req,
                                         JobControl* control = nullptr);

}  // namespace fw
