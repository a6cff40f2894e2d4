#include "app/panels/network_export.h"

#include <algorithm>
#include <exception>
#include <filesystem>

#include "app/gui/ui_probe.h"
#include "core/analysis.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/export/model_export.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/init.h"
#include "core/weights.h"
#include "nas/mpi.h"
#include "nas/space.h"

namespace fw::gui {

namespace {

struct FormatText {
  const char* extension;
  const char* title;  // the file browser's
  const char* what;   // the status line's, as the CLI's "wrote F (...)"
};

const FormatText& text_of(NetworkFormat f) {
  static const FormatText texts[] = {{".onnx", "Export ONNX", "ONNX opset 17"},
                                     {".py", "Export PyTorch", "PyTorch module"},
                                     {".json", "Export architecture", "architecture"}};
  return texts[static_cast<int>(f)];
}

}  // namespace

const char* network_format_extension(NetworkFormat f) { return text_of(f).extension; }

std::vector<uint8_t> network_file_bytes(NetworkFormat f, const Graph& g, const std::string& name,
                                        const TensorMap& weights, JobControl* control) {
  if (f == NetworkFormat::Json) {
    Graph arch = g;
    arch.meta.erase(kSearchSpaceMeta);
    const std::string text = graph_to_json(arch) + "\n";
    return std::vector<uint8_t>(text.begin(), text.end());
  }
  const Analysis an = analyze(g);
  require_valid(an);
  ExportInfo info{name, kFormworkBuild};
  info.control = control;
  if (f == NetworkFormat::Onnx) return onnx_model_bytes(g, an, weights, info);
  const std::string text = torch_module_source(g, an, info);
  return std::vector<uint8_t>(text.begin(), text.end());
}

void NetworkExport::open(AppState& app, NetworkExportRequest request) {
  if (active()) {
    app.error = "An export is running (" + path_ + "): wait for it or cancel it first";
    return;
  }
  if (request.format == NetworkFormat::Onnx && !onnx_export_available()) {
    app.error = "This build has no ONNX export (install libonnx-dev libprotobuf-dev and rebuild)";
    return;
  }
  if (request.format != NetworkFormat::Json) {
    try {
      require_exportable(analyze(request.graph), request.name);
    } catch (const std::exception& e) {
      app.error = e.what();
      return;
    }
  }
  req_ = std::move(request);
  const std::string ext = network_format_extension(req_.format);
  FileKind kind;
  kind.title = text_of(req_.format).title;
  kind.filter = "*" + ext;
  kind.what = std::string(ext.c_str() + 1) + " files";
  kind.extensions = {ext};
  files_.open(FileBrowser::Mode::Save, req_.dir, req_.name + ext, kind);
}

void NetworkExport::chosen(const std::string& path) {
  path_ = path;
  if (req_.format != NetworkFormat::Onnx) {
    start(nullptr, std::nullopt);
    return;
  }
  const Analysis an = analyze(req_.graph);
  if (req_.weights && !req_.weights->empty()) {
    const WeightsMatch m = match_weights(an, *req_.weights);
    const std::string bad = m.exact() ? non_finite_weight(*req_.weights) : "";
    if (m.exact() && bad.empty()) {
      start(req_.weights, std::nullopt);
      return;
    }
    weights_reason_ = bad.empty() ? "The weights stored in " + req_.weights_source +
                                        " do not match " + req_.name + " (" + m.summary() + ")."
                                  : "The weights stored in " + req_.weights_source +
                                        " cannot be exported: " + bad + ".";
  } else {
    weights_reason_ =
        req_.name + " has no stored weights (" +
        (req_.weights_source.empty() ? std::string("only a project keeps trained weights")
                                     : req_.weights_source + " holds none") +
        ").";
  }
  asking_ = true;
}

void NetworkExport::start(std::shared_ptr<const TensorMap> weights,
                          std::optional<uint64_t> fresh_seed) {
  auto graph = std::make_shared<const Graph>(req_.graph);
  outcome_ = std::make_shared<Outcome>();
  fresh_job().start([graph, weights, fresh_seed, out = outcome_, format = req_.format,
                     name = req_.name, path = path_](JobControl& ctl) {
    try {
      TensorMap fresh;
      if (fresh_seed) {
        ctl.set_status("initialising the weights");
        fresh = init_weights(analyze(*graph), *fresh_seed);
      }
      static const TensorMap kNone;
      const TensorMap& w = fresh_seed ? fresh : weights ? *weights : kNone;
      ctl.set_status("building the model");
      const std::vector<uint8_t> bytes = network_file_bytes(format, *graph, name, w, &ctl);
      if (ctl.cancelled()) throw Error("export cancelled");
      ctl.set_status("writing the file");
      write_files_atomic({{path, bytes}});
      std::lock_guard<std::mutex> lk(out->mu);
      out->bytes = bytes.size();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lk(out->mu);
      out->error = e.what();
    }
    std::lock_guard<std::mutex> lk(out->mu);
    out->done = true;
  });
}

void NetworkExport::use_fresh_weights() {
  if (!asking_) return;
  asking_ = false;
  start(nullptr, seed);
}

void NetworkExport::decline_fresh_weights() {
  if (!asking_) return;
  asking_ = false;
  path_.clear();
}

std::pair<int64_t, int64_t> NetworkExport::progress() {
  if (!has_job()) return {0, 0};
  return {control().done.load(), control().total.load()};
}

void NetworkExport::finish(AppState& app) {
  if (!outcome_) return;
  join();
  std::string error;
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lk(outcome_->mu);
    error = outcome_->error;
    bytes = outcome_->bytes;
  }
  outcome_.reset();
  if (!error.empty())
    app.error =
        "Cannot export " + req_.name + " to " + path_ + ": " + error + " (nothing was written)";
  else
    app.status = {Message::Ok, "Exported " + req_.name + " to " + path_ + " (" +
                                   text_of(req_.format).what + ", " +
                                   format_si(static_cast<double>(bytes)).append("B") + ")"};
  path_.clear();
}

void NetworkExport::wait(AppState& app) {
  join();
  finish(app);
}

void NetworkExport::weights_modal(const Fonts& fonts) {
  const char* id = "Weights for the ONNX file";
  if (asking_ && !ImGui::IsPopupOpen(id)) ImGui::OpenPopup(id);
  const float fs = ImGui::GetFontSize();
  ImGui::SetNextWindowSize(ImVec2(fs * 32, 0), ImGuiCond_Appearing);
  weights_visible_ = ImGui::BeginPopupModal(id, nullptr, ImGuiWindowFlags_NoSavedSettings);
  if (!weights_visible_) return;
  if (asking_) {
    probe::dialog("export_weights");
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted("An ONNX file carries the network's weights.");
    ImGui::PopFont();
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(weights_reason_.c_str());
    ImGui::TextUnformatted(
        "Export it with freshly initialised weights (as `formwork export --init-seed S`)?");
    ImGui::PopTextWrapPos();
    ImGui::SetNextItemWidth(fs * 8);
    ImGui::InputScalar("Seed", ImGuiDataType_U64, &seed);
    probe::note("export:seed");
    ImGui::Spacing();
    if (ImGui::Button("Export with fresh weights")) use_fresh_weights();
    probe::note("export:fresh");
    ImGui::SameLine();
    const bool cancel = ImGui::Button("Cancel", ImVec2(fs * 7, 0));
    probe::note("export:decline");
    if (cancel || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) decline_fresh_weights();
  }
  if (!asking_) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

void NetworkExport::progress_window(const Fonts& fonts) {
  if (!has_job() || !outcome_) return;
  const float fs = ImGui::GetFontSize();
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(
      ImVec2(vp->WorkPos.x + vp->WorkSize.x - fs, vp->WorkPos.y + vp->WorkSize.y - fs * 2.5f),
      ImGuiCond_Always, ImVec2(1, 1));
  ImGui::SetNextWindowSize(ImVec2(fs * 24, 0));
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_AlwaysAutoResize;
  if (ImGui::Begin("Exporting##network_export", nullptr, flags)) {
    ImGui::PushFont(fonts.bold);
    ImGui::Text("Exporting %s", req_.name.c_str());
    ImGui::PopFont();
    ImGui::TextDisabled("%s", std::filesystem::path(path_).filename().string().c_str());
    const auto [done, total] = progress();
    const float f = total > 0 ? std::clamp(float(done) / float(total), 0.0f, 1.0f) : 0.0f;
    const std::string status = control().status();
    ImGui::ProgressBar(f, ImVec2(-1, 0), total > 0 ? nullptr : status.c_str());
    if (total > 0) ImGui::TextDisabled("%s", status.c_str());
    const bool cancelling = control().cancelled();
    ImGui::BeginDisabled(cancelling);
    if (ImGui::Button(cancelling ? "Cancelling\xE2\x80\xA6" : "Cancel")) cancel();
    ImGui::EndDisabled();
    probe::note("export:cancel");
    if (probe::enabled()) {
      probe::fact("export.progress", std::to_string(done) + "/" + std::to_string(total));
      probe::fact("export.file", path_);
    }
  }
  ImGui::End();
}

void NetworkExport::draw(AppState& app, const Fonts& fonts) {
  if (files_.draw(fonts)) chosen(files_.chosen());
  weights_modal(fonts);
  if (outcome_) {
    bool done = false;
    {
      std::lock_guard<std::mutex> lk(outcome_->mu);
      done = outcome_->done;
    }
    if (done)
      finish(app);
    else
      progress_window(fonts);
  }
}

}  // namespace fw::gui
