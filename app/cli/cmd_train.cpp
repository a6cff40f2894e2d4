// formwork train ... and formwork eval ...
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "app/cli/engine.h"
#include "core/error.h"
#include "core/graph_json.h"
#include "core/image_io.h"
#include "core/init.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "kernels/train/trainer.h"

namespace fw::cli {

namespace {

JobControl* g_control = nullptr;
extern "C" void on_sigint(int) {
  if (g_control) g_control->cancel = true;
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

constexpr const char* kOptimizerBlob = "train/optimizer.safetensors";

void progress_line(const StepInfo& s, bool tty) {
  const int64_t done = s.step + 1;
  if (!tty) {
    // One line per 10% of an epoch when the output is not a terminal (logs, CI).
    const int64_t every = std::max<int64_t>(1, s.steps_per_epoch / 10);
    if (done % every && done != s.steps_per_epoch) return;
  }
  const int width = 28;
  const int fill = int(double(done) / double(s.steps_per_epoch) * width);
  std::string bar(size_t(fill), '=');
  if (fill < width) bar += '>' + std::string(size_t(width - fill - 1), ' ');
  std::fprintf(stderr, "%sepoch %lld [%s] %3d%% loss %.4f acc %5.1f%% lr %.2e %6.0f img/s%s",
               tty ? "\r" : "", (long long)(s.epoch + 1), bar.c_str(),
               int(100.0 * double(done) / double(s.steps_per_epoch)), s.loss, 100.0 * s.top1, s.lr,
               s.images_per_s, tty ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train on a dataset; weights, curves and settings go into the project");
  cmd->footer(
      "AdamW (no decay on biases, norms, scales, embeddings), linear warm-up then cosine learning "
      "rate per step, label-smoothing cross-entropy, seeded shuffling and augmentation (random "
      "crop with padding, horizontal flip). After every epoch the test split is evaluated and the "
      "project is saved (weights, optimiser state, curves), so Ctrl+C keeps the last epoch and "
      "--resume continues from it. Datasets: fashion-mnist (Debian's dataset-fashion-mnist), "
      "fashion-mnist-placed (items on a 64x64 canvas, seeded), or a directory of class folders.");
  struct Args {
    EngineArgs engine;
    TrainSettings s;
    std::string out;
    bool resume = false, force = false, no_augment = false;
    int64_t keep_samples = 0;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--dataset", a->s.dataset, "fashion-mnist, fashion-mnist-placed or DIR")->required();
  cmd->add_option("--epochs", a->s.epochs, "epochs")->required()->check(CLI::Range(1, 100000));
  cmd->add_option("--batch", a->s.batch, "batch size (default 128)")->check(CLI::Range(1, 65536));
  cmd->add_option("--lr", a->s.lr, "peak learning rate (default 2e-3)")->check(CLI::PositiveNumber);
  cmd->add_option("--min-lr", a->s.min_lr, "final learning rate (default 1e-5)");
  cmd->add_option("--warmup-epochs", a->s.warmup_epochs, "warm-up epochs (default 1)");
  cmd->add_option("--weight-decay", a->s.weight_decay, "AdamW weight decay (default 0.05)");
  cmd->add_option("--label-smoothing", a->s.label_smoothing, "label smoothing (default 0.1)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--clip-grad", a->s.clip_grad, "max gradient norm (default 0: off)");
  cmd->add_flag("--no-augment", a->no_augment, "no random crop / flip");
  cmd->add_option("--seed", a->s.seed, "seed (default 0)");
  cmd->add_option("--limit", a->s.limit, "train on the first N samples only");
  cmd->add_option("--eval-limit", a->s.eval_limit, "evaluate on the first N test samples only");
  cmd->add_option("--out", a->out, "project file to write (*.formwork)")->required();
  cmd->add_flag("--resume", a->resume, "continue the training stored in --out");
  cmd->add_flag("--force", a->force, "overwrite an existing --out project");
  cmd->add_option("--keep-samples", a->keep_samples,
                  "store the first N test images (PNG, with labels and boxes) in the project")
      ->check(CLI::Range(0, 256));
  cmd->callback([a] {
    if (!ends_with(a->out, ".formwork"))
      throw UsageError("train: --out must be a *.formwork project file");
    a->s.augment = !a->no_augment;
    struct stat st;
    const bool exists = ::stat(a->out.c_str(), &st) == 0;
    if (exists && !a->resume && !a->force)
      throw Error(a->out + ": already exists; use --resume to continue its training or --force to start over");
    if (a->resume && !exists) throw Error(a->out + ": no such project to resume");

    auto e = load_engine(a->engine, /*with_weights=*/false);
    ProjectData p;
    TrainCheckpoint ck;
    Normalization stored;
    if (a->resume) {
      p = load_project(a->out);
      if (p.runs.empty()) throw Error(a->out + ": has no training run to resume");
      const TrainingRun& last = p.runs.back();
      const TrainSettings prev = TrainSettings::from_json(last.settings_json);
      const int64_t epochs = a->s.epochs;
      a->s = prev;
      a->s.epochs = epochs;
      e->arch.graph = graph_from_json(p.graph_json, a->out);
      e->analysis = analyze(e->arch.graph);
      require_valid(e->analysis);
      ck.weights = p.weights;
      if (auto it = p.blobs.find(kOptimizerBlob); it != p.blobs.end())
        ck.optimizer = parse_safetensors(it->second.second.data(), it->second.second.size(), a->out + " (optimizer)");
      ck.epochs_done = int64_t(std::stoll(p.meta.count("train_epochs_done") ? p.meta.at("train_epochs_done") : "0"));
      ck.curve = last.curve;
      if (p.meta.count("input_norm")) stored = normalization_from_json(p.meta.at("input_norm"));
      p.runs.back().status = "running";
      if (ck.epochs_done >= a->s.epochs)
        throw Error(a->out + ": already trained for " + std::to_string(ck.epochs_done) +
                    " epochs; give --epochs above that to continue");
    } else {
      if (!a->engine.weights.empty()) {
        ck.weights = read_safetensors(a->engine.weights);
        require_weights_match(e->analysis, ck.weights, a->engine.weights, a->engine.arch.arch);
      } else if (!e->arch.project.weights.empty()) {
        ck.weights = e->arch.project.weights;
      } else {
        ck.weights = init_weights(e->analysis, a->s.seed);
      }
      if (e->arch.source == "project") {
        p = e->arch.project;
        if (p.meta.count("input_norm")) stored = normalization_from_json(p.meta.at("input_norm"));
      }
      p.graph_json = graph_to_json(e->arch.graph);
      p.meta["created"] = p.meta.count("created") ? p.meta["created"] : now_iso8601();
      p.meta["source"] = a->engine.arch.arch;
      if (e->arch.graph.meta.has("template")) p.meta["template"] = e->arch.graph.meta.s("template");
      TrainingRun run;
      run.created = now_iso8601();
      run.settings_json = a->s.to_json();
      run.dataset = a->s.dataset;
      run.status = "running";
      p.runs.push_back(run);
    }
    std::fprintf(stderr, "loading %s...\n", a->s.dataset.c_str());
    const TrainData data = load_train_data(e->arch.graph, e->analysis, a->s.dataset, stored,
                                           a->s.limit, a->s.eval_limit);
    p.meta["input_norm"] = normalization_to_json(data.norm);
    p.meta["dataset"] = a->s.dataset;
    p.meta["class_names"] = nlohmann::json(data.test.class_names).dump();
    if (a->keep_samples > 0) {
      nlohmann::json samples = nlohmann::json::array();
      const Dataset& t = data.test;
      for (int64_t i = 0; i < std::min<int64_t>(a->keep_samples, t.size()); ++i) {
        Image8 img(t.width, t.height, t.channels);
        const uint8_t* src = t.sample(i);  // CHW
        for (int y = 0; y < t.height; ++y)
          for (int x = 0; x < t.width; ++x)
            for (int c = 0; c < t.channels; ++c)
              img.pixel(x, y)[c] = src[(size_t(c) * t.height + y) * t.width + x];
        const std::string name = "samples/" + std::to_string(i) + ".png";
        p.blobs[name] = {"image/png", encode_png(img)};
        nlohmann::json s = {{"blob", name}, {"label", t.labels[i]}};
        if (!t.boxes.empty()) s["box"] = {t.boxes[i].x0, t.boxes[i].y0, t.boxes[i].x1, t.boxes[i].y1};
        samples.push_back(s);
      }
      p.meta["samples"] = samples.dump();
    }
    std::fprintf(stderr, "training %s on %s: %lld train / %lld test images, %lld epochs, batch %lld\n",
                 a->engine.arch.arch.c_str(), a->s.dataset.c_str(), (long long)data.train.size(),
                 (long long)data.test.size(), (long long)a->s.epochs, (long long)a->s.batch);

    JobControl ctl;
    g_control = &ctl;
    std::signal(SIGINT, on_sigint);
    const bool tty = isatty(STDERR_FILENO);
    auto save = [&](const TrainCheckpoint& c, const std::string& status) {
      p.weights = c.weights;
      p.blobs[kOptimizerBlob] = {"application/x-safetensors", encode_safetensors(c.optimizer)};
      p.meta["train_epochs_done"] = std::to_string(c.epochs_done);
      p.runs.back().curve = c.curve;
      p.runs.back().status = status;
      p.runs.back().settings_json = a->s.to_json();
      save_project(a->out, p);
    };
    EpochResult last;
    const std::string status = train(
        e->arch.graph, e->analysis, *e->backend, a->s, data, ck, ctl,
        [&](const StepInfo& s) { progress_line(s, tty); },
        [&](const TrainCheckpoint& c, const EpochResult& r) {
          last = r;
          save(c, c.epochs_done >= a->s.epochs ? "done" : "running");
          std::fprintf(stderr, "%sepoch %lld/%lld: train loss %.4f acc %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%% | %.0f img/s, %.1f s\n",
                       tty ? "\r\033[K" : "", (long long)r.epoch, (long long)a->s.epochs, r.train_loss,
                       100 * r.train_top1, r.test_loss, 100 * r.test_top1, 100 * r.test_top5,
                       r.images_per_s, r.seconds);
        });
    std::signal(SIGINT, SIG_DFL);
    g_control = nullptr;
    if (status == "cancelled") {
      if (ck.epochs_done > 0) save(ck, "cancelled");
      throw Error("training cancelled; " + a->out + " keeps the last completed epoch (" +
                  std::to_string(ck.epochs_done) + "); --resume continues");
    }
    std::printf("trained %s for %lld epochs: test top-1 %.2f%%, top-5 %.2f%%, loss %.4f -> %s\n",
                a->engine.arch.arch.c_str(), (long long)a->s.epochs, 100 * last.test_top1,
                100 * last.test_top5, last.test_loss, a->out.c_str());
  });
}

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Accuracy and loss of weights on a dataset split");
  struct Args {
    EngineArgs engine;
    std::string dataset, split = "test";
    int64_t batch = 256, limit = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--dataset", a->dataset, "fashion-mnist, fashion-mnist-placed or DIR")->required();
  cmd->add_option("--split", a->split, "train or test (default test)")->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--batch", a->batch, "batch size (default 256)")->check(CLI::Range(1, 65536));
  cmd->add_option("--limit", a->limit, "first N samples only");
  cmd->add_flag("--json", a->json, "print JSON: top1, top5 (fractions), loss, n");
  cmd->callback([a] {
    auto e = load_engine(a->engine);
    Normalization stored;
    if (e->arch.project.meta.count("input_norm"))
      stored = normalization_from_json(e->arch.project.meta.at("input_norm"));
    const TrainData d = load_train_data(e->arch.graph, e->analysis, a->dataset, stored, 0, a->limit,
                                        /*need_train=*/false, a->split);
    const EvalResult r = evaluate(*e->executor, d.test, d.norm, d.channels, a->batch);
    if (a->json) {
      std::printf("%s\n", nlohmann::ordered_json({{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss},
                                                  {"n", r.n}, {"dataset", a->dataset}, {"split", a->split}})
                              .dump(1)
                              .c_str());
    } else {
      std::printf("%s on %s/%s: top-1 %.2f%%, top-5 %.2f%%, loss %.4f (%lld images)\n",
                  a->engine.arch.arch.c_str(), a->dataset.c_str(), a->split.c_str(), 100 * r.top1,
                  100 * r.top5, r.loss, (long long)r.n);
    }
  });
}

}  // namespace fw::cli
