// Faithfulness of a saliency map: deletion / insertion curves and the pointing game
// (views/faithfulness.h, CONTRACT.md "Views").
#include "views/faithfulness.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/batches.h"
#include "core/error.h"

namespace fw {

namespace {

constexpr int kSteps = 32;  // curves have kSteps + 1 points

// torch's upsample_bilinear2d (align_corners = false) source index and weights for one axis, in
// float as its CPU kernel computes them (area_pixel_compute_source_index, HelperInterpLinear).
struct Axis {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

Axis bilinear_axis(int64_t in, int64_t out) {
  Axis a;
  const float scale = float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    float src = float(double(scale) * (double(o) + 0.5) - 0.5);
    if (src < 0) src = 0;
    const int64_t i = std::min<int64_t>(int64_t(src), in - 1);
    const float l = std::min(std::max(src - float(i), 0.0f), 1.0f);
    a.i0.push_back(i);
    a.i1.push_back(i < in - 1 ? i + 1 : i);
    a.w0.push_back(1.0f - l);
    a.w1.push_back(l);
  }
  return a;
}

double softmax_at(const float* logits, int64_t k, int64_t cls) {
  const float m = *std::max_element(logits, logits + k);
  double s = 0;
  for (int64_t j = 0; j < k; ++j) s += std::exp(double(logits[j]) - double(m));
  return std::exp(double(logits[cls]) - double(m)) / s;
}

void check_cancel(const JobControl* control) {
  if (control && control->cancelled()) throw Cancelled();
}

}  // namespace

Tensor saliency(const float* cam, int64_t h, int64_t w, int64_t H, int64_t W) {
  FW_ASSERT(h > 0 && w > 0 && H > 0 && W > 0, "saliency: sizes must be positive");
  const Axis ay = bilinear_axis(h, H), ax = bilinear_axis(w, W);
  Tensor s({H, W});
  // Blended in double and rounded once, so that pixels equal in exact arithmetic (the clamped
  // borders, where i0 == i1) are equal here too and rank by index; torch's float blend breaks
  // such ties by rounding noise (it differs from this by a few ulp).
  auto blend = [](double a, double b, int64_t i0, int64_t i1, float w0, float w1) {
    return i0 == i1 ? a : a * double(w0) + b * double(w1);
  };
  for (int64_t y = 0; y < H; ++y) {
    const float* r0 = cam + ay.i0[y] * w;
    const float* r1 = cam + ay.i1[y] * w;
    for (int64_t x = 0; x < W; ++x) {
      const int64_t a = ax.i0[x], b = ax.i1[x];
      const double t0 = blend(r0[a], r0[b], a, b, ax.w0[x], ax.w1[x]);
      const double t1 = blend(r1[a], r1[b], a, b, ax.w0[x], ax.w1[x]);
      s.data[y * W + x] = float(blend(t0, t1, ay.i0[y], ay.i1[y], ay.w0[y], ay.w1[y]));
    }
  }
  return s;
}

std::vector<int64_t> pixel_order(const Tensor& s) {
  std::vector<int64_t> order(s.size());
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return s.data[a] > s.data[b]; });
  return order;
}

double curve_auc(const std::vector<double>& p) {
  double auc = 0;
  for (size_t k = 0; k + 1 < p.size(); ++k) auc += (p[k] + p[k + 1]) / (2.0 * double(p.size() - 1));
  return auc;
}

Faithfulness faithfulness(Executor& ex, const Tensor& input, const Tensor& cam, int64_t cls,
                          const std::optional<PixelBox>& box, int64_t tolerance,
                          const JobControl* control) {
  if (input.rank() != 4 || input.dim(0) != 1)
    throw Error("faithfulness: give one sample [1,C,H,W], got " + shape_str(input.shape));
  const int64_t C = input.dim(1), H = input.dim(2), W = input.dim(3), HW = H * W;
  const int64_t h = cam.dim(-2), w = cam.dim(-1);
  if (cam.size() != h * w) throw Error("faithfulness: give one cam [h,w], got " + shape_str(cam.shape));
  if (tolerance < 0) throw UsageError("--tolerance must be 0 or more, got " + std::to_string(tolerance));
  if (box && (box->x0 < 0 || box->y0 < 0 || box->x1 > W || box->y1 > H || box->x0 >= box->x1 ||
              box->y0 >= box->y1))
    throw Error("box " + std::to_string(box->x0) + "," + std::to_string(box->y0) + "," +
                std::to_string(box->x1) + "," + std::to_string(box->y1) +
                " is not a non-empty box inside the " + std::to_string(W) + "x" +
                std::to_string(H) + " image (x0,y0,x1,y1 with x1, y1 exclusive)");
  const Tensor s = saliency(cam.ptr(), h, w, H, W);
  const std::vector<int64_t> order = pixel_order(s);

  Faithfulness f;
  f.cls = cls;
  // The first maximum in flat order (the order's first entry, by stability).
  f.peak_x = order[0] % W;
  f.peak_y = order[0] / W;
  if (box)
    f.pointing_hit = f.peak_x >= box->x0 - tolerance && f.peak_x < box->x1 + tolerance &&
                     f.peak_y >= box->y0 - tolerance && f.peak_y < box->y1 + tolerance;

  // One batch per curve: x_k for k = 0..32 ([33, C, H, W]).
  const int64_t n = kSteps + 1;
  for (int curve = 0; curve < 2; ++curve) {
    check_cancel(control);
    const bool deletion = curve == 0;
    Tensor batch({n, C, H, W}, 0.0f);
    for (int64_t k = 0; k < n; ++k) {
      float* dst = batch.data.data() + k * C * HW;
      const int64_t m = k * HW / kSteps;  // ranked pixels deleted / inserted
      if (deletion) std::copy(input.data.begin(), input.data.end(), dst);
      for (int64_t r = 0; r < m; ++r) {
        const int64_t p = order[r];
        for (int64_t c = 0; c < C; ++c) dst[c * HW + p] = deletion ? 0.0f : input.data[c * HW + p];
      }
    }
    RunOptions o;
    if (control) o.cancel = &control->cancel;
    const Tensor logits = ex.forward({batch}, o).at(0);
    if (logits.rank() != 2)
      throw Error("faithfulness needs a classifier: the output is " + shape_str(logits.shape));
    const int64_t K = logits.dim(1);
    if (cls < 0 || cls >= K)
      throw Error("--class " + std::to_string(cls) + " is out of range: the model has " +
                  std::to_string(K) + " classes (0.." + std::to_string(K - 1) + ")");
    std::vector<double>& p = deletion ? f.deletion : f.insertion;
    for (int64_t k = 0; k < n; ++k) p.push_back(softmax_at(logits.ptr() + k * K, K, cls));
  }
  f.deletion_auc = curve_auc(f.deletion);
  f.insertion_auc = curve_auc(f.insertion);
  return f;
}

DatasetFaithfulness dataset_faithfulness(Executor& ex, const Graph& g, const InputPipeline& pipeline,
                                         const DatasetFaithfulnessRequest& req,
                                         JobControl* control) {
  if (req.limit < 0) throw UsageError("--limit must be 0 or more, got " + std::to_string(req.limit));
  const FlatGraph& fg = ex.flat();
  const Shape in = fg.ops.at(fg.inputs.at(0)).out_shapes.at(0);  // [C, H, W]
  layer_grid(g, fg, req.layer);  // a bad layer fails before the dataset is loaded
  if (in[1] != in[2])
    throw Error(req.dataset + ": its images are square; this network's input is " + shape_str(in));
  LoadOptions lo;
  lo.image_size = int(in[1]);
  lo.fit = pipeline.fit == Fit::Resize ? Fit::Resize : Fit::Pad;
  lo.channels = pipeline.channels;
  lo.limit = req.limit;
  lo.normalization = false;
  const Dataset ds = load_dataset(req.dataset, req.split, lo);
  Normalization norm = pipeline.norm;
  if (norm.empty()) {  // no stored normalisation: the dataset's own (its whole train split)
    LoadOptions no = lo;
    no.limit = 0;
    no.normalization = true;
    norm = load_dataset(req.dataset, "train", no).norm;
  }
  if (ds.height != in[1] || ds.width != in[2])
    throw Error(req.dataset + ": images are " + std::to_string(ds.height) + "x" +
                std::to_string(ds.width) + ", the network's input is " + shape_str(in));
  if (ds.channels != in[0] && !(ds.channels == 1 && in[0] == 3))
    throw Error(req.dataset + ": images have " + std::to_string(ds.channels) +
                " channels, the network's input " + std::to_string(in[0]));
  if (ds.size() == 0) throw Error(req.dataset + " (" + req.split + "): no items");

  DatasetFaithfulness r;
  if (control) {
    control->total = ds.size();
    control->done = 0;
  }
  const bool boxes = !ds.boxes.empty();
  if (req.pointing && !boxes)
    throw Error(req.dataset + " has no boxes: the pointing game needs a dataset with boxes "
                "(fashion-mnist-placed)");
  int64_t hits = 0;
  double del = 0, ins = 0;
  for (int64_t i = 0; i < ds.size(); ++i) {
    check_cancel(control);
    Tensor x = sample_tensor(ds, i, norm, int(in[0]) == ds.channels ? 0 : int(in[0]));
    x.shape.insert(x.shape.begin(), 1);
    const int64_t cls = ds.labels[i];
    const Tensor cam = gradcam(ex, g, x, req.layer, {cls}, nullptr, req.method, control);
    std::optional<PixelBox> box;
    if (boxes) {
      const Box& b = ds.boxes[i];
      box = PixelBox{b.x0, b.y0, b.x1, b.y1};
    }
    const Faithfulness f = faithfulness(ex, x, cam, cls, box, req.tolerance, control);
    del += f.deletion_auc;
    ins += f.insertion_auc;
    if (f.pointing_hit && *f.pointing_hit) ++hits;
    if (control) control->done = i + 1;
  }
  r.n = ds.size();
  r.deletion_auc = del / double(r.n);
  r.insertion_auc = ins / double(r.n);
  if (boxes) r.pointing_game = double(hits) / double(r.n);
  return r;
}

}  // namespace fw
