// Classification loss and accuracy for training and evaluation.
//
// cross_entropy(logits, labels, smoothing, grad)
//  - logits: (B, K) float32, labels: B values in [0, K), smoothing eps in [0, 1].
//  - The target of sample b is q = (1 - eps) * onehot(labels[b]) + eps / K, and
//        loss = mean over b of  sum_k -q_k * log_softmax(logits_b)_k
//             = mean over b of  (1 - eps) * (lse_b - z_b,y) + eps/K * sum_k (lse_b - z_b,k)
//    with lse_b = log sum_k exp(z_b,k) computed stably (max subtracted), all in double. This is
//    torch.nn.functional.cross_entropy(logits, labels, label_smoothing=eps) with mean reduction.
//  - grad (optional, may be null): d loss / d logits = (softmax(z_b) - q) / B, shape (B, K).
//  - fw::Error for a label outside [0, K) (with its index) or a batch/label count mismatch;
//    fw::UsageError for eps outside [0, 1]. B = 0 gives loss 0 and an empty gradient.
//
// topk_correct(logits, labels, k): how many samples have their label among the first k classes
//  of PyTorch's ranking: logits descending, equal logits by lower class index, NaN above every
//  number (torch.argmax for k = 1; torch.sort(descending=True, stable=True) in general;
//  torch.topk leaves the order of ties unspecified). So constant logits rank class 0 first:
//  top-1 is the share of class 0, never 100%. k above K counts every sample.
//
// Accuracy: a running tally over batches; top1()/top5() are fractions of n (0 when n = 0).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace fw {

double cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, double smoothing,
                     Tensor* grad);

int64_t topk_correct(const Tensor& logits, const std::vector<int64_t>& labels, int k);

struct Accuracy {
  int64_t correct1 = 0, correct5 = 0, n = 0;
  double loss_sum = 0;  // sum over samples of their loss: add the batch mean * batch size

  void add(const Tensor& logits, const std::vector<int64_t>& labels, double batch_mean_loss = 0);
  double top1() const { return n ? double(correct1) / double(n) : 0.0; }
  double top5() const { return n ? double(correct5) / double(n) : 0.0; }
  double loss() const { return n ? loss_sum / double(n) : 0.0; }
};

}  // namespace fw
