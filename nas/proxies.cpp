#include "nas/proxies.h"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"

namespace fw {

namespace {

// Full names of the conv2d / linear weight tensors, in graph order.
std::vector<std::string> layer_weights(const Graph& g, const Analysis& a) {
  std::vector<std::string> out;
  for (const ParamInfo& p : a.params) {
    const std::string& kind = g.node(p.node).kind;
    if ((kind == "conv2d" || kind == "linear") && p.name.size() >= 7 &&
        p.name.compare(p.name.size() - 7, 7, ".weight") == 0)
      out.push_back(p.name);
  }
  return out;
}

// d(mean CE)/d logits for logits (B, K) and labels.
Tensor ce_grad(const Tensor& logits, const std::vector<int64_t>& labels) {
  const int64_t B = logits.dim(0), K = logits.dim(1);
  Tensor d({B, K});
  for (int64_t b = 0; b < B; ++b) {
    const float* z = logits.ptr() + b * K;
    const double m = *std::max_element(z, z + K);
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(z[k] - m);
    for (int64_t k = 0; k < K; ++k)
      d.data[b * K + k] = float((std::exp(z[k] - m) / s - (k == labels[b] ? 1.0 : 0.0)) / B);
  }
  return d;
}

std::unique_ptr<Executor> make(const ProxyInput& in, const TensorMap& w) {
  auto ex = in.backend->create(*in.graph, *in.analysis);
  ex->bind(w);
  return ex;
}

void loss_proxies(const ProxyInput& in, bool want_gn, bool want_snip, std::map<std::string, double>& out) {
  auto ex = make(in, *in.weights);
  const std::vector<std::string> names = layer_weights(*in.graph, *in.analysis);
  RunOptions o;
  o.backward = true;
  o.grads.param_names = names;
  std::vector<Tensor> y = ex->forward({in.x}, o);
  Gradients gr = ex->backward({ce_grad(y.at(0), in.labels)});
  double gn = 0, sn = 0;
  for (const std::string& n : names) {
    const Tensor& g = gr.params.at(n);
    const Tensor& w = in.weights->at(n);
    double sq = 0;
    for (int64_t i = 0; i < g.size(); ++i) {
      sq += double(g.data[i]) * g.data[i];
      sn += std::abs(double(w.data[i]) * g.data[i]);
    }
    gn += std::sqrt(sq);
  }
  if (want_gn) out["grad_norm"] = gn;
  if (want_snip) out["snip"] = sn;
}

void synflow(const ProxyInput& in, std::map<std::string, double>& out) {
  TensorMap absw = *in.weights;
  for (auto& [name, t] : absw)
    for (float& v : t.data) v = std::abs(v);
  auto ex = make(in, absw);
  const std::vector<std::string> names = layer_weights(*in.graph, *in.analysis);
  RunOptions o;
  o.backward = true;
  o.grads.param_names = names;
  Shape one = in.x.shape;
  one[0] = 1;
  std::vector<Tensor> y = ex->forward({Tensor(one, 1.0f)}, o);
  Gradients gr = ex->backward({Tensor(y.at(0).shape, 1.0f)});
  double total = 0;
  double m = -std::numeric_limits<double>::infinity();  // running log-sum-exp
  double acc = 0;
  for (const std::string& n : names) {
    const Tensor& g = gr.params.at(n);
    const Tensor& w = absw.at(n);
    for (int64_t i = 0; i < g.size(); ++i) {
      const double prod = std::abs(double(w.data[i]) * double(g.data[i]));
      total += prod;
      if (prod == 0) continue;
      const double l = std::log(std::abs(double(w.data[i]))) + std::log(std::abs(double(g.data[i])));
      if (!std::isfinite(l)) continue;
      if (l > m) {
        acc = acc * std::exp(m - l) + 1.0;
        m = l;
      } else {
        acc += std::exp(l - m);
      }
    }
  }
  out["synflow"] = total;
  out["synflow_log"] = acc > 0 ? m + std::log(acc) : -std::numeric_limits<double>::infinity();
}

void jacob_cov(const ProxyInput& in, std::map<std::string, double>& out) {
  const int64_t B = in.x.dim(0);
  if (B < 2) throw Error("jacob_cov needs a batch of at least 2 samples (the input has 1)");
  auto ex = make(in, *in.weights);
  RunOptions o;
  o.backward = true;
  o.grads.inputs = true;
  std::vector<Tensor> y = ex->forward({in.x}, o);
  Gradients gr = ex->backward({Tensor(y.at(0).shape, 1.0f)});
  const Tensor& J = gr.inputs.at(0);
  const int64_t D = J.size() / B;
  Eigen::MatrixXd Z(B, D);
  for (int64_t b = 0; b < B; ++b) {
    double mean = 0;
    for (int64_t i = 0; i < D; ++i) mean += J.data[b * D + i];
    mean /= double(D);
    double ss = 0;
    for (int64_t i = 0; i < D; ++i) {
      Z(b, i) = J.data[b * D + i] - mean;
      ss += Z(b, i) * Z(b, i);
    }
    if (!(ss > 0))
      throw Error("jacob_cov: the input gradient of sample " + std::to_string(b) +
                  " is constant, so its correlation is undefined");
    Z.row(b) /= std::sqrt(ss);
  }
  const Eigen::MatrixXd C = Z * Z.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C, Eigen::EigenvaluesOnly);
  const double k = 1e-5;
  double s = 0;
  for (int64_t i = 0; i < B; ++i) {
    const double l = es.eigenvalues()(i);
    s += std::log(l + k) + 1.0 / (l + k);
  }
  out["jacob_cov"] = -s;
}

void naswot(const ProxyInput& in, std::map<std::string, double>& out) {
  auto ex = make(in, *in.weights);
  const FlatGraph& fg = ex->flat();
  static const std::set<std::string> acts = {"gelu", "relu", "star_relu", "squared_relu"};
  RunOptions o;
  for (const FlatOp& op : fg.ops)
    if (acts.count(op.def->id)) o.keep.push_back(op.inputs.at(0));
  if (o.keep.empty()) throw Error("naswot: the network has no activation function");
  ex->forward({in.x}, o);
  const int64_t B = in.x.dim(0);
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(B, B);
  std::vector<uint8_t> code;
  for (const ValueRef& v : o.keep) {
    const Tensor* t = ex->value(v);
    FW_ASSERT(t, "the executor must keep the values listed in RunOptions::keep");
    const int64_t U = t->size() / B;
    code.resize(size_t(t->size()));
    for (int64_t i = 0; i < t->size(); ++i) code[i] = t->data[i] > 0;
    for (int64_t a = 0; a < B; ++a)
      for (int64_t b = a; b < B; ++b) {
        int64_t agree = 0;
        const uint8_t* ca = &code[a * U];
        const uint8_t* cb = &code[b * U];
        for (int64_t u = 0; u < U; ++u) agree += ca[u] == cb[u];
        K(a, b) += double(agree);
        if (a != b) K(b, a) += double(agree);
      }
  }
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(K);
  double logdet = 0;
  for (int64_t i = 0; i < B; ++i) logdet += std::log(std::abs(lu.matrixLU()(i, i)));
  out["naswot"] = logdet;  // -inf when two samples have identical codes (K singular)
}

double latency_ms(const ProxyInput& in, int64_t batch, int repeats) {
  auto ex = make(in, *in.weights);
  require_memory(memory_need(*ex, nullptr, batch, RunOptions{}, false),
                 "latency at batch " + std::to_string(batch), "use a smaller --latency-batch");
  Shape one = in.x.shape;
  one[0] = batch;
  const int64_t per = numel(in.x.shape) / std::max<int64_t>(1, in.x.dim(0));
  Tensor x1(one);
  for (int64_t i = 0; i < numel(one); ++i) x1.data[size_t(i)] = in.x.data[size_t(i % (per * in.x.dim(0)))];
  RunOptions o;
  std::vector<double> times;
  for (int i = 0; i < repeats + 2; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ex->forward({x1}, o);
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= 2) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

const std::vector<std::string>& proxy_names() {
  static const std::vector<std::string> names = {"synflow", "grad_norm", "snip", "naswot", "jacob_cov"};
  return names;
}

std::map<std::string, double> compute_proxies(const ProxyInput& in, const std::vector<std::string>& names) {
  std::set<std::string> want;
  for (const std::string& n : names) {
    if (n == "synflow_log") {
      want.insert("synflow");
      continue;
    }
    if (std::find(proxy_names().begin(), proxy_names().end(), n) == proxy_names().end()) {
      std::string list;
      for (const std::string& k : proxy_names()) list += (list.empty() ? "" : ", ") + k;
      throw Error("unknown proxy '" + n + "'; known: " + list);
    }
    want.insert(n);
  }
  const int64_t B = in.x.dim(0);
  if ((want.count("grad_norm") || want.count("snip"))) {
    if (int64_t(in.labels.size()) != B)
      throw Error(std::to_string(in.labels.size()) + " labels for a batch of " + std::to_string(B));
    const NodeId outn = in.graph->top_level_of_kind("output").at(0);
    const int64_t K = in.analysis->of(outn)->in.at(0).back();
    for (size_t i = 0; i < in.labels.size(); ++i)
      if (in.labels[i] < 0 || in.labels[i] >= K)
        throw Error("label " + std::to_string(in.labels[i]) + " of sample " + std::to_string(i) +
                    " is out of range for " + std::to_string(K) + " classes");
  }
  std::map<std::string, double> out;
  if (want.count("synflow")) synflow(in, out);
  if (want.count("grad_norm") || want.count("snip"))
    loss_proxies(in, want.count("grad_norm"), want.count("snip"), out);
  if (want.count("naswot")) naswot(in, out);
  if (want.count("jacob_cov")) jacob_cov(in, out);
  out["params"] = double(in.analysis->total_params);
  out["macs"] = double(in.analysis->total_macs);
  if (in.latency_repeats > 0) out["latency_ms"] = latency_ms(in, 1, in.latency_repeats);
  return out;
}

double forward_latency_ms(const ProxyInput& in, int64_t batch, int repeats) {
  if (batch < 1) throw Error("latency: batch must be at least 1, got " + std::to_string(batch));
  return latency_ms(in, batch, std::max(1, repeats));
}

}  // namespace fw
