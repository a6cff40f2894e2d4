// formwork_optimcheck: runs Formwork's training maths on .npy files for the PyTorch cross-check
// (tests/python/test_optim_vs_torch.py). Not installed; a test tool.
//
//   formwork_optimcheck adamw DIR
//     DIR/config.json: {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad",
//                       "warmup_lr", "min_lr", "warmup_steps", "total_steps", "steps",
//                       "params": [names], "frozen": [names], "resume_at": k (optional)}
//     DIR/param.<name>.npy         initial values
//     DIR/grad.<step>.<name>.npy   gradient of step 0..steps-1 (absent: no gradient that step)
//     Step s runs at LrSchedule::lr_at(s). With resume_at k, the optimiser state after k steps
//     goes through a .safetensors file into a fresh optimiser that does the rest.
//     Writes DIR/out.<step>.<name>.npy (parameters after each step) and DIR/result.json
//     {"lrs": [...], "decayed": {name: bool}}.
//   formwork_optimcheck ce DIR
//     DIR/logits.npy (B, K), DIR/labels.npy (B,), DIR/config.json {"smoothing"}
//     Writes DIR/grad.npy and DIR/result.json {"loss", "top1", "top5"}.
//   formwork_optimcheck clip DIR
//     DIR/config.json {"max_norm", "params": [names]}, DIR/grad.<name>.npy
//     Writes DIR/out.<name>.npy and DIR/result.json {"total_norm"}.
// Exit status 0, or 1 with a message on stderr.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "core/npy.h"
#include "core/safetensors.h"
#include "kernels/train/loss.h"
#include "kernels/train/optim.h"

namespace fw {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  return json::parse(in);
}

void write_json(const std::string& path, const json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw Error(path + ": cannot write");
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

void run_adamw(const std::string& dir) {
  const json cfg = read_json(dir + "/config.json");
  const AdamWOptions opt{cfg.at("lr").get<double>(),           cfg.at("beta1").get<double>(),
                         cfg.at("beta2").get<double>(),        cfg.at("eps").get<double>(),
                         cfg.at("weight_decay").get<double>(), cfg.at("amsgrad").get<bool>()};
  const LrSchedule sched({cfg.at("lr").get<double>(), cfg.at("warmup_lr").get<double>(),
                          cfg.at("min_lr").get<double>(), cfg.at("warmup_steps").get<int64_t>(),
                          cfg.at("total_steps").get<int64_t>()});
  const int steps = cfg.at("steps").get<int>();
  const int resume_at = cfg.value("resume_at", -1);
  const auto names = cfg.at("params").get<std::vector<std::string>>();
  TensorMap params;
  for (const std::string& n : names) params[n] = read_npy(dir + "/param." + n + ".npy");
  std::set<std::string> frozen;
  for (const std::string& n : cfg.value("frozen", std::vector<std::string>{})) frozen.insert(n);

  auto opt_ptr = std::make_unique<AdamW>(opt);
  opt_ptr->set_frozen(frozen);
  json lrs = json::array();
  for (int s = 0; s < steps; ++s) {
    if (s == resume_at) {  // through a file, into a fresh optimiser
      write_safetensors(dir + "/state.safetensors", opt_ptr->state());
      opt_ptr = std::make_unique<AdamW>(opt);
      opt_ptr->set_frozen(frozen);
      opt_ptr->load_state(read_safetensors(dir + "/state.safetensors"));
    }
    TensorMap grads;
    for (const std::string& n : names) {
      const std::string g = dir + "/grad." + std::to_string(s) + "." + n + ".npy";
      if (exists(g)) grads[n] = read_npy(g);
    }
    const double lr = sched.lr_at(opt_ptr->steps());
    lrs.push_back(lr);
    opt_ptr->step(params, grads, lr);
    for (const std::string& n : names)
      write_npy(dir + "/out." + std::to_string(s) + "." + n + ".npy", params.at(n));
  }
  json decayed = json::object();
  for (const std::string& n : names)
    decayed[n] = !frozen.count(n) && opt_ptr->is_decayed(n, params.at(n).shape);
  write_json(dir + "/result.json", {{"lrs", lrs}, {"decayed", decayed}});
}

void run_ce(const std::string& dir) {
  const json cfg = read_json(dir + "/config.json");
  const Tensor logits = read_npy(dir + "/logits.npy");
  const LabelArray labels = read_npy_labels(dir + "/labels.npy");
  Tensor grad;
  const double loss = cross_entropy(logits, labels.data, cfg.at("smoothing").get<double>(), &grad);
  write_npy(dir + "/grad.npy", grad);
  write_json(dir + "/result.json", {{"loss", loss},
                                    {"top1", topk_correct(logits, labels.data, 1)},
                                    {"top5", topk_correct(logits, labels.data, 5)}});
}

void run_clip(const std::string& dir) {
  const json cfg = read_json(dir + "/config.json");
  TensorMap grads;
  const auto names = cfg.at("params").get<std::vector<std::string>>();
  for (const std::string& n : names) grads[n] = read_npy(dir + "/grad." + n + ".npy");
  const double total = clip_grad_norm(grads, cfg.at("max_norm").get<double>());
  for (const std::string& n : names) write_npy(dir + "/out." + n + ".npy", grads.at(n));
  write_json(dir + "/result.json", {{"total_norm", total}});
}

}  // namespace
}  // namespace fw

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: formwork_optimcheck adamw|ce|clip DIR\n");
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  try {
    if (mode == "adamw") {
      fw::run_adamw(dir);
    } else if (mode == "ce") {
      fw::run_ce(dir);
    } else if (mode == "clip") {
      fw::run_clip(dir);
    } else {
      std::fprintf(stderr, "formwork_optimcheck: unknown mode '%s'\n", mode.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "formwork_optimcheck: %s\n", e.what());
    return 1;
  }
  return 0;
}
