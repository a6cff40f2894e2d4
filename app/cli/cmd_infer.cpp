// formwork infer ... and formwork bench ...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/engine.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/init.h"
#include "core/npy.h"
#include "kernels/parallel.h"
#include "kernels/train/loss.h"
#include "kernels/train/optim.h"

namespace fw::cli {

void register_infer(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "Run the network forward: logits [B, K] of an input batch");
  struct Args {
    EngineArgs engine;
    std::string input, out, save_input;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")->required();
  cmd->add_option("--out", a->out, "logits (*.npy float32 [B,K])")->required();
  cmd->add_option("--save-input", a->save_input,
                  "also write the batch given to the network (*.npy float32 [B,C,H,W]): an image "
                  "after its preprocessing");
  cmd->footer("An image file is prepared as the project's training data was (its stored input "
              "pipeline: pad or resize, channels, normalisation), or for a template without "
              "training data as timm's eval transform (bicubic resize, centre crop by the "
              "template's crop_pct, ImageNet mean/std).");
  cmd->callback([a] {
    auto e = load_engine(a->engine);
    const Tensor x = load_input(a->input, *e);
    const std::vector<Tensor> y = e->executor->forward({x}, RunOptions{});
    std::vector<std::pair<std::string, std::vector<uint8_t>>> outs{{a->out, encode_npy(y.at(0))}};
    if (!a->save_input.empty()) outs.push_back({a->save_input, encode_npy(x)});
    write_files_atomic(outs);
    std::printf("wrote %s: logits %s\n", a->out.c_str(), shape_str(y.at(0).shape).c_str());
  });
}

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench", "Inference latency and throughput: warm-up, then the median of repeated forwards");
  struct Args {
    EngineArgs engine;
    int64_t batch = 1;
    int repeats = 20, warmup = 3;
    bool json = false, train = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--batch", a->batch, "batch size")->required()->check(CLI::Range(1, 4096));
  cmd->add_option("--repeats", a->repeats, "timed forwards (default 20)")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", a->warmup, "untimed forwards first (default 3)")->check(CLI::Range(0, 1000));
  cmd->add_flag("--json", a->json, "print JSON: median_ms, images_per_s, batch, threads, device, ...");
  cmd->add_flag("--train", a->train,
                "time training steps instead: forward in training mode, cross-entropy, backward to "
                "every parameter, AdamW update");
  cmd->footer("Uses the given or stored weights, or deterministic initial weights (seed 0) when the "
              "architecture has none: timing does not depend on the values.");
  cmd->callback([a] {
    auto e = load_engine(a->engine, /*with_weights=*/false);
    RunOptions ro;
    if (a->train) {
      ro.training = true;
      ro.backward = true;
      ro.grads.params = true;
    }
    // Before the weights and the batch are made.
    require_engine_memory(*e, a->batch, ro, a->train);
    if (!a->engine.weights.empty() || !e->arch.project.weights.empty()) {
      e = load_engine(a->engine);
    } else {
      e->weights = init_weights(e->analysis, 0);
      e->executor = e->backend->create(e->arch.graph, e->analysis);
      e->executor->bind(e->weights);
    }
    Shape s = e->input_shape();
    s.insert(s.begin(), a->batch);
    Tensor x(s);
    Rng rng(1);
    for (float& v : x.data) v = float(rng.normal());
    std::vector<int64_t> labels(size_t(a->batch));
    for (int64_t b = 0; b < a->batch; ++b) labels[b] = b % e->num_classes();
    AdamW opt;
    opt.set_frozen(frozen_names(e->analysis.params));
    Gradients grads;
    std::vector<double> ms;
    for (int i = 0; i < a->warmup + a->repeats; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<Tensor> y = e->executor->forward({x}, ro);
      if (a->train) {
        Tensor dlogits;
        cross_entropy(y.at(0), labels, 0.0, &dlogits);
        e->executor->backward({dlogits}, grads);
        opt.step(e->weights, grads.params, 1e-4);
        e->executor->bind(e->weights);  // a device backend uploads the updated weights
      }
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= a->warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    const double ips = double(a->batch) * 1000.0 / median;
    if (a->json) {
      nlohmann::ordered_json j = {{"arch", a->engine.arch.arch},
                                  {"median_ms", median},
                                  {"min_ms", ms.front()},
                                  {"max_ms", ms.back()},
                                  {"images_per_s", ips},
                                  {"batch", a->batch},
                                  {"threads", num_threads()},
                                  {"device", a->engine.device.name},
                                  {"repeats", a->repeats},
                                  {"warmup", a->warmup},
                                  {"mode", a->train ? "train" : "inference"},
                                  {"input", e->input_shape()}};
      std::printf("%s\n", j.dump(1).c_str());
    } else {
      std::printf(
          "%s, batch %lld, input %s, %d threads on %s: median %.2f ms (min %.2f, max %.2f) "
          "over %d runs, %.1f images/s\n",
          a->engine.arch.arch.c_str(), (long long)a->batch, shape_str(e->input_shape()).c_str(),
          num_threads(), a->engine.device.name.c_str(), median, ms.front(), ms.back(), a->repeats,
          ips);
    }
  });
}

}  // namespace fw::cli
