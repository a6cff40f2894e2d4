#include "kernels/train/loss.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace fw {
namespace {

void check_inputs(const Tensor& logits, const std::vector<int64_t>& labels) {
  if (logits.rank() != 2)
    throw Error("loss: logits must be (batch, classes), got " + shape_str(logits.shape));
  if (logits.dim(0) != int64_t(labels.size()))
    throw Error("loss: " + std::to_string(logits.dim(0)) + " rows of logits but " +
                std::to_string(labels.size()) + " labels");
  const int64_t K = logits.dim(1);
  for (size_t b = 0; b < labels.size(); ++b)
    if (labels[b] < 0 || labels[b] >= K)
      throw Error("loss: label " + std::to_string(labels[b]) + " of sample " + std::to_string(b) +
                  " is out of range [0, " + std::to_string(K) + ")");
}

}  // namespace

double cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, double smoothing,
                     Tensor* grad) {
  if (!(smoothing >= 0 && smoothing <= 1))
    throw UsageError("label smoothing must be in [0, 1], got " + std::to_string(smoothing));
  check_inputs(logits, labels);
  const int64_t B = logits.dim(0), K = logits.dim(1);
  if (grad) *grad = Tensor(logits.shape);
  if (B == 0) return 0.0;
  const double off = smoothing / double(K), on = 1.0 - smoothing + off;
  double total = 0;
  std::vector<double> e(K);
  for (int64_t b = 0; b < B; ++b) {
    // z: (K,) logits of sample b.
    const float* z = logits.ptr() + b * K;
    double mx = z[0];
    for (int64_t k = 1; k < K; ++k) mx = std::max(mx, double(z[k]));
    double sum = 0, zsum = 0;
    for (int64_t k = 0; k < K; ++k) {
      e[k] = std::exp(double(z[k]) - mx);
      sum += e[k];
      zsum += z[k];
    }
    const double lse = mx + std::log(sum);
    const int64_t y = labels[b];
    total += (1.0 - smoothing) * (lse - z[y]) + off * (double(K) * lse - zsum);
    if (grad) {
      float* g = grad->ptr() + b * K;
      for (int64_t k = 0; k < K; ++k) g[k] = float((e[k] / sum - (k == y ? on : off)) / double(B));
    }
  }
  return total / double(B);
}

int64_t topk_correct(const Tensor& logits, const std::vector<int64_t>& labels, int k) {
  check_inputs(logits, labels);
  const int64_t B = logits.dim(0), K = logits.dim(1);
  // PyTorch's order (torch.argmax, torch.sort(descending=True, stable=True)): NaN above every
  // number, equal values by lower index.
  auto above = [](float a, float b) { return std::isnan(a) ? !std::isnan(b) : a > b; };
  auto same = [](float a, float b) { return std::isnan(a) ? std::isnan(b) : a == b; };
  int64_t correct = 0;
  for (int64_t b = 0; b < B; ++b) {
    const float* z = logits.ptr() + b * K;
    const int64_t y = labels[b];
    int64_t rank = 0;  // classes ranked before y
    for (int64_t j = 0; j < K; ++j) rank += above(z[j], z[y]) || (j < y && same(z[j], z[y]));
    correct += rank < k;
  }
  return correct;
}

void Accuracy::add(const Tensor& logits, const std::vector<int64_t>& labels,
                   double batch_mean_loss) {
  correct1 += topk_correct(logits, labels, 1);
  correct5 += topk_correct(logits, labels, 5);
  n += int64_t(labels.size());
  loss_sum += batch_mean_loss * double(labels.size());
}

}  // namespace fw
