// formwork train ... and formwork eval ...
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/engine.h"
#include "core/error.h"
#include "core/format.h"
#include "core/npy.h"
#include "core/project_meta.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "kernels/train/project_run.h"

namespace fw::cli {

namespace {

JobControl* g_control = nullptr;
extern "C" void on_sigint(int) {
  if (g_control) g_control->cancel = true;
}

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

// A resumed run trains the project's own graph: ARCH must describe the same network (the same
// parameters and input), e.g. the project file itself.
void require_same_network(const Engine& e, const ProjectRun& run, const std::string& out) {
  auto signature = [](const Analysis& a) {
    std::vector<std::pair<std::string, Shape>> sig;
    for (const auto& p : a.params) sig.push_back({p.name, p.shape});
    return sig;
  };
  if (signature(e.analysis) != signature(run.analysis) ||
      e.input_shape() != run.analysis.of(run.graph.top_level_of_kind("input").at(0))->out.at(0))
    throw UsageError("train --resume: " + e.arch.spec + " is another network than the one " + out +
                     " is training; give " + out + " itself (or the same architecture) as ARCH");
}

}  // namespace

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train", "Train on a dataset; weights, curves and settings go into the project");
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
    bool resume = false, force = false, no_augment = false, new_settings = false;
    int64_t keep_samples = 0;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--dataset", a->s.dataset,
                  "fashion-mnist, fashion-mnist-placed or DIR (with --resume: the run's)");
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
  cmd->add_option("--seed", a->s.seed, "seed (default 0)")->check(non_negative());
  cmd->add_option("--limit", a->s.limit, "train on the first N samples only")
      ->check(non_negative());
  cmd->add_option("--eval-limit", a->s.eval_limit, "evaluate on the first N test samples only")
      ->check(non_negative());
  cmd->add_option("--out", a->out, "project file to write (*.formwork)")->required();
  cmd->add_flag("--resume", a->resume,
                "continue the training stored in --out up to --epochs, with the run's settings");
  cmd->add_flag("--new-settings", a->new_settings,
                "with --resume: apply the settings given here where they differ from the run's");
  cmd->add_flag("--force", a->force, "overwrite an existing --out project");
  cmd->add_option("--keep-samples", a->keep_samples,
                  "store the first N test images (PNG, with labels and boxes) in the project")
      ->check(CLI::Range(0, 256));
  cmd->callback([a, cmd] {
    if (!ends_with(a->out, ".formwork"))
      throw UsageError("train: --out must be a *.formwork project file");
    a->s.augment = !a->no_augment;
    if (!a->resume && cmd->count("--dataset") == 0)
      throw UsageError("train: --dataset is required");
    if (a->new_settings && !a->resume) throw UsageError("train: --new-settings goes with --resume");
    if (a->resume && !a->engine.weights.empty())
      throw UsageError(
          "train: --resume continues from the project's own weights; leave out --weights");
    if (!a->resume) a->s.check();
    device_backend(a->engine.device);  // an unusable --device fails before anything is touched
    struct stat st;
    const bool exists = ::stat(a->out.c_str(), &st) == 0;
    if (exists && !a->resume && !a->force)
      throw Error(
          a->out +
          ": already exists; use --resume to continue its training or --force to start over");
    if (a->resume && !exists) throw Error(a->out + ": no such project to resume");

    // The run: a new one (from --weights, the project's weights or a fresh initialisation), or
    // the continuation of the run stored in --out (kernels/train/project_run.h).
    // The project's write lock, before anything is read (--out may be ARCH itself); a resumed
    // run takes it in resume_run, before reading the run.
    std::unique_ptr<ProjectLock> lock;
    if (!a->resume) lock = std::make_unique<ProjectLock>(a->out, "training");
    auto e = load_engine(a->engine, /*with_weights=*/false);
    ProjectRun run;
    if (a->resume) {
      run = resume_run(a->out, a->s.epochs);
      require_same_network(*e, run, a->out);
      // Settings given on the command line must agree with the run's, unless --new-settings.
      TrainSettings given = run.settings;
      TrainSettings::each_setting(given, a->s, [&](const char* flag, auto& to, const auto& from) {
        if (cmd->count(flag) > 0) to = from;
      });
      const std::vector<std::string> diff = given.differences(run.settings);
      if (!diff.empty() && !a->new_settings)
        throw UsageError("train --resume: " + a->out +
                         "'s run has other settings: " + format_list(diff) +
                         "; leave them out to continue the run as it was, or add --new-settings "
                         "to continue with them");
      given.epochs = run.settings.epochs;
      given.check();
      if (!diff.empty()) {
        std::fprintf(stderr, "continuing with changed settings: %s\n", format_list(diff).c_str());
        run.settings = given;
      }
    } else {
      TensorMap weights;
      if (!a->engine.weights.empty()) {
        weights = read_safetensors(a->engine.weights);
        require_weights_match(e->analysis, weights, a->engine.weights, a->engine.arch.arch);
      } else if (!e->arch.project.weights.empty()) {
        weights = e->arch.project.weights;
      }
      ProjectData base;
      if (e->arch.source == "project") base = e->arch.project;
      run = start_run(a->out, std::move(base), e->arch.graph, std::move(weights), a->s,
                      a->engine.arch.arch, std::move(lock));
    }
    const TrainSettings& s = run.settings;
    std::fprintf(stderr, "loading %s...\n", s.dataset.c_str());
    const TrainData data = load_run_data(run);
    if (a->keep_samples > 0) keep_samples(run.project, data.test, a->keep_samples);
    {
      RunOptions ro;
      ro.training = ro.backward = ro.grads.params = true;
      require_engine_memory(*e, std::clamp<int64_t>(data.train.size(), 1, s.batch), ro, true);
    }
    std::fprintf(stderr,
                 "training %s on %s: %lld train / %lld test images, %lld epochs, batch %lld\n",
                 a->engine.arch.arch.c_str(), s.dataset.c_str(), (long long)data.train.size(),
                 (long long)data.test.size(), (long long)s.epochs, (long long)s.batch);

    JobControl ctl;
    g_control = &ctl;
    std::signal(SIGINT, on_sigint);
    const bool tty = isatty(STDERR_FILENO);
    EpochResult last;
    const std::string status = run_training(
        run, data, *e->backend, ctl, [&](const StepInfo& st) { progress_line(st, tty); },
        [&](const EpochResult& r) {
          last = r;
          std::fprintf(stderr,
                       "%sepoch %lld/%lld: train loss %.4f acc %.2f%% | test loss %.4f top-1 "
                       "%.2f%% top-5 %.2f%% | %.0f img/s, %.1f s\n",
                       tty ? "\r\033[K" : "", (long long)r.epoch, (long long)s.epochs, r.train_loss,
                       100 * r.train_top1, r.test_loss, 100 * r.test_top1, 100 * r.test_top5,
                       r.images_per_s, r.seconds);
        });
    std::signal(SIGINT, SIG_DFL);
    g_control = nullptr;
    if (status == "cancelled")
      throw Error("training cancelled; " + a->out + " keeps the last completed epoch (" +
                  std::to_string(run.ck.epochs_done) + "); --resume continues");
    std::printf("trained %s for %lld epochs: test top-1 %.2f%%, top-5 %.2f%%, loss %.4f -> %s\n",
                a->engine.arch.arch.c_str(), (long long)s.epochs, 100 * last.test_top1,
                100 * last.test_top5, last.test_loss, a->out.c_str());
  });
}

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Accuracy and loss of weights on a dataset split");
  struct Args {
    EngineArgs engine;
    std::string dataset, split = "test", out;
    int64_t batch = 256, limit = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--dataset", a->dataset, "fashion-mnist, fashion-mnist-placed or DIR")
      ->required();
  cmd->add_option("--split", a->split, "train or test (default test)")
      ->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--batch", a->batch, "batch size (default 256)")->check(CLI::Range(1, 65536));
  cmd->add_option("--limit", a->limit, "first N samples only")->check(non_negative());
  cmd->add_flag("--json", a->json, "print JSON: top1, top5 (fractions), loss, n");
  cmd->add_option("--out", a->out,
                  "also write every item's logits (*.npy float32 [n, K], dataset order)");
  cmd->footer(
      "Items are prepared as in training: the project's stored normalisation (else the "
      "dataset's own train-split statistics), Fashion-MNIST padded to the input size, "
      "other datasets resized. Accuracy ranks logits as PyTorch does (equal logits: the "
      "lower class index first).");
  cmd->callback([a] {
    if (!a->out.empty() && !ends_with(a->out, ".npy"))
      throw UsageError("eval: --out must be a *.npy file");
    auto e = load_engine(a->engine);
    Normalization stored;
    if (std::optional<InputPipeline> p = project_input_pipeline(e->arch.project, e->input_shape()))
      stored = p->norm;
    const TrainData d = load_train_data(e->arch.graph, e->analysis, a->dataset, stored, 0, a->limit,
                                        /*need_train=*/false, a->split);
    require_engine_memory(*e, std::clamp<int64_t>(d.test.size(), 1, a->batch), RunOptions{}, false);
    Tensor logits;
    const EvalResult r = evaluate(*e->executor, d.test, d.norm, d.channels, a->batch, nullptr,
                                  a->out.empty() ? nullptr : &logits);
    if (!a->out.empty()) write_npy(a->out, logits);
    if (a->json) {
      std::printf("%s\n", nlohmann::ordered_json({{"top1", r.top1},
                                                  {"top5", r.top5},
                                                  {"loss", r.loss},
                                                  {"n", r.n},
                                                  {"dataset", a->dataset},
                                                  {"split", a->split}})
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
