#include "app/panels/gradcam_panel.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "views/node_geometry.h"
#include "app/gui/plot.h"
#include "app/gui/ui_probe.h"
#include "core/error.h"

namespace fw::gui {

namespace {

using State = InferenceService::State;

std::string cam_what(const std::string& layer, int64_t cls, CamMethod m) {
  return "gradcam|" + layer + "|class=" + std::to_string(cls) + "|" + cam_method_name(m);
}

InferenceService::Work cam_work(std::shared_ptr<const Tensor> x, std::string layer, int64_t cls,
                                CamMethod m) {
  return [x, layer, cls, m](InferenceService::Context& c) -> InferenceService::Result {
    c.control.set_status("Grad-CAM of " + layer);
    auto r = std::make_shared<CamResult>();
    CamDiagnostics diag;
    Tensor cam = gradcam(c.ex, c.graph, *x, layer, {cls}, nullptr, m, nullptr, &diag);
    r->note = diag.note;
    const int64_t h = cam.dim(1), w = cam.dim(2);
    r->cam = Tensor({h, w});
    std::copy(cam.data.begin(), cam.data.begin() + h * w, r->cam.data.begin());
    r->saliency = saliency(r->cam.ptr(), h, w, x->dim(2), x->dim(3));
    r->cls = cls;
    return r;
  };
}

constexpr ImU32 kDeletion = palette::rgb(0xe5a14a), kInsertion = palette::rgb(0x5aa9f0);

void badge(ImDrawList* dl, ImVec2 a, const char* text) {
  const ImVec2 ts = ImGui::CalcTextSize(text);
  dl->AddRectFilled(ImVec2(a.x + 4, a.y + 4), ImVec2(a.x + ts.x + 12, a.y + ts.y + 8),
                    palette::rgb(0x111318, 210), 3);
  dl->AddText(ImVec2(a.x + 8, a.y + 6), palette::kWarning, text);
}

}  // namespace

void GradcamPanel::refresh_lists(const ViewModel& vm) {
  if (lists_for_ == vm.version()) return;
  lists_for_ = vm.version();
  targets_.clear();
  stages_.clear();
  const FlatGraph* fg = vm.flat();
  const Graph* g = vm.graph();
  if (!fg || !g) return;
  auto has_grid = [&](const std::string& path) {
    try {
      layer_grid(*g, *fg, path);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  // Depth-first in the graph's order: the containers with a grid (stages, blocks, mixers). The
  // stages are the top level's, where a group of several (timm's `stages`) stands for its
  // children.
  std::function<void(NodeId, int)> walk = [&](NodeId id, int depth) {
    const Node& n = g->node(id);
    if (!views::is_container(n)) return;
    const std::string path = g->path(id);
    if (has_grid(path)) targets_.push_back(path);
    if (depth < 4)
      for (NodeId c : n.children) walk(c, depth + 1);
  };
  for (NodeId id : g->children(kNoNode)) {
    const Node& n = g->node(id);
    if (!views::is_container(n)) continue;
    walk(id, 0);
    std::vector<std::string> parts;
    for (NodeId c : n.children)
      if (views::is_container(g->node(c)) && has_grid(g->path(c))) parts.push_back(g->path(c));
    const std::string path = g->path(id);
    if (parts.size() >= 2 && (path == "stages" || !has_grid(path)))
      stages_.insert(stages_.end(), parts.begin(), parts.end());
    else if (has_grid(path))
      stages_.push_back(path);
  }
}

const std::vector<std::string>& GradcamPanel::targets(const ViewModel& vm) {
  refresh_lists(vm);
  return targets_;
}
const std::vector<std::string>& GradcamPanel::stages(const ViewModel& vm) {
  refresh_lists(vm);
  return stages_;
}

std::string GradcamPanel::shown_layer(const ViewModel& vm) {
  refresh_lists(vm);
  if (!layer.empty()) return layer;
  return stages_.empty() ? (targets_.empty() ? "" : targets_.back()) : stages_.back();
}

std::shared_ptr<const void> GradcamPanel::fetch(ViewModel& vm, const std::string& slot,
                                                const std::string& input_id,
                                                const std::string& what,
                                                InferenceService::Work work, bool* stale,
                                                std::string* error, bool* running) {
  vm.service().request(input_id, what, std::move(work));
  const auto st = vm.service().get(input_id, what);
  Shown& s = shown_[slot];
  const std::string key = input_id + "|" + what + "|" + std::to_string(vm.graph_revision()) + "." +
                          std::to_string(vm.weights_revision());
  *stale = false;
  *running = false;
  if (st.state == State::Done) {
    s.key = key;
    s.result = st.result;
    return s.result;
  }
  if (st.state == State::Failed) {
    *error = st.error;
    s.result.reset();
    return nullptr;
  }
  *running = true;
  pending_ = true;
  *stale = s.result != nullptr;
  return s.result;
}

void GradcamPanel::controls(ViewModel& vm, const AppState& app, const Fonts& fonts, int64_t top1) {
  (void)fonts;
  const float fs = ImGui::GetFontSize();
  // Target.
  const std::string cur = shown_layer(vm);
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Target");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(fs * 12);
  if (ImGui::BeginCombo("##target", cur.empty() ? "(none)" : cur.c_str())) {
    for (const std::string& t : targets_) {
      const bool stage = std::find(stages_.begin(), stages_.end(), t) != stages_.end();
      const std::string label = (stage ? "" : "    ") + t;
      if (ImGui::Selectable(label.c_str(), t == cur)) layer = t;
    }
    ImGui::EndCombo();
  }
  probe::note("gradcam:target");
  // The editor's selection, when it has a grid.
  if (app.editor.selection.size() == 1) {
    const NodeId sel = *app.editor.selection.begin();
    if (app.doc.graph().contains(sel)) {
      const std::string p = app.doc.graph().path(sel);
      if (p != cur && std::find(targets_.begin(), targets_.end(), p) != targets_.end()) {
        ImGui::SameLine();
        if (ImGui::SmallButton(("use selection: " + p).c_str())) layer = p;
      }
    }
  }
  // Class.
  ImGui::SameLine(0, fs * 1.2f);
  ImGui::TextUnformatted("Class");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(fs * 10);
  const std::string cls_label =
      cls < 0 ? "top-1" + (top1 >= 0 ? " (" + vm.class_name(top1) + ")" : std::string())
              : std::to_string(cls) + " " + vm.class_name(cls);
  if (ImGui::BeginCombo("##class", cls_label.c_str())) {
    if (ImGui::Selectable("top-1", cls < 0)) cls = -1;
    for (int64_t k = 0; k < vm.num_classes(); ++k)
      if (ImGui::Selectable((std::to_string(k) + " " + vm.class_name(k)).c_str(), cls == k))
        cls = k;
    ImGui::EndCombo();
  }
  probe::note("gradcam:class");
  // Method.
  ImGui::SameLine(0, fs);
  ImGui::SetNextItemWidth(fs * 7);
  if (ImGui::BeginCombo("##method", cam_method_title(method))) {
    for (CamMethod m : kCamMethods)
      if (ImGui::Selectable(cam_method_title(m), m == method)) method = m;
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "Grad-CAM: channel weights = the gradient's mean over the grid; Grad-CAM++: its "
        "second-order weights; HiResCAM: gradient x activation per cell; LayerCAM: positive "
        "gradient x activation per cell");
  probe::note("gradcam:method");
  // Look.
  ImGui::SameLine(0, fs * 1.2f);
  ImGui::TextUnformatted("Colours");
  ImGui::SameLine();
  int c = int(cmap);
  ImGui::SetNextItemWidth(fs * 5.5f);
  if (ImGui::Combo("##cmap", &c, kColormapNames, 4)) cmap = Colormap(c);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(std::max(fs * 4, ImGui::GetContentRegionAvail().x));
  ImGui::SliderFloat("##opacity", &opacity, 0.0f, 1.0f, "opacity %.2f");
}

void GradcamPanel::draw(ViewModel& vm, InputPanel& input, const AppState& app, const Fonts& fonts,
                        ImVec2 size) {
  pending_ = false;
  ImGui::BeginChild("gradcam_view", size, true);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  refresh_lists(vm);
  const ViewInput* in = input.input();
  const auto pred = input.prediction(vm);
  const int64_t top1 = pred ? pred->top1 : -1;
  controls(vm, app, fonts, top1);
  const std::string lay = shown_layer(vm);
  const int64_t k = cls >= 0 ? cls : top1;
  if (probe::enabled()) {
    probe::fact("layer", lay);
    probe::fact("class", k >= 0 ? std::to_string(k) : "");
    probe::fact("method", cam_method_name(method));
    probe::fact("top1", top1 >= 0 ? std::to_string(top1) : "");
    probe::fact("input", in ? in->id : "");
  }
  ImGui::Separator();
  auto finish = [&](const std::string& st) {
    state_ = st;
    if (probe::enabled()) probe::fact("state", st);
    ImGui::EndChild();
  };
  if (!vm.problem().empty()) {
    text_error("No model", vm.problem());
    return finish("no model");
  }
  if (input.draw_missing("Pick an input on the left (a stored sample, an image file or a dataset item).",
                         &pending_))
    return finish("no input");
  if (k < 0) {
    const std::string err = input.prediction_error(vm);
    if (!err.empty()) {
      text_error("The prediction failed", err);
      return finish("failed");
    }
    pending_ = true;
    ImGui::TextDisabled("Predicting the class\xE2\x80\xA6");
    return finish("computing");
  }
  if (k >= vm.num_classes()) {
    text_error("Class", std::to_string(k) + " is out of range: the model has " +
                            std::to_string(vm.num_classes()) + " classes");
    return finish("failed");
  }
  if (lay.empty()) {
    text_error("No target", "this graph has no node with a feature-map or token-grid output");
    return finish("failed");
  }

  const float fs = ImGui::GetFontSize();
  const float avail_w = ImGui::GetContentRegionAvail().x;
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float strip_h = std::clamp(avail_h * 0.27f, fs * 7, fs * 11);
  const float main_h = avail_h - strip_h - ImGui::GetStyle().ItemSpacing.y * 3;
  const float side = std::min(main_h - fs * 2.6f, avail_w * 0.36f);

  // ---- The cam: overlay and raw map.
  bool stale = false, running = false;
  std::string err;
  const std::string what = cam_what(lay, k, method);
  auto res = std::static_pointer_cast<const CamResult>(
      fetch(vm, "cam", in->id, what, cam_work(in->x, lay, k, method), &stale, &err, &running));
  std::string state = running       ? (stale ? "recomputing" : "computing")
                      : err.empty() ? "ready"
                                    : "failed";

  ImGui::BeginGroup();
  ImGui::PushFont(fonts.bold);
  ImGui::Text("%s \xC2\xB7 %s \xC2\xB7 %s",
              cam_method_title(method), lay.c_str(),
              vm.class_name(k).c_str());
  ImGui::PopFont();
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(side, side));
  const ImVec2 o1(o.x + side, o.y + side);
  if (res) {
    auto& [made, tex] = tex_["overlay"];
    char key[64];
    std::snprintf(key, sizeof key, "|%d|%.3f", int(cmap), double(opacity));
    const std::string want = shown_["cam"].key + key;
    if (made != want || tex.empty()) {
      tex.set(overlay_image(in->shown, res->saliency.ptr(), cmap, opacity), true);
      made = want;
    }
    draw_texture(dl, tex, o, o1);
    report_map("gradcam:overlay", o, o1, what, stale);
  } else {
    dl->AddRectFilled(o, o1, palette::kPanel);
  }
  if (!err.empty()) {
    ImGui::SetCursorScreenPos(ImVec2(o.x + 8, o.y + 8));
    ImGui::PushTextWrapPos(o1.x - 8);
    text_error("Grad-CAM failed", err);
    ImGui::PopTextWrapPos();
    if (probe::enabled()) probe::fact("error", err);
  } else if (running) {
    badge(dl, o, stale ? "recomputing\xE2\x80\xA6" : "computing\xE2\x80\xA6");
  }
  const float sx = side / float(in->shown.w), sy = side / float(in->shown.h);
  if (in->box)
    dl->AddRect(ImVec2(o.x + float(in->box->x0) * sx, o.y + float(in->box->y0) * sy),
                ImVec2(o.x + float(in->box->x1) * sx, o.y + float(in->box->y1) * sy),
                palette::rgb(0x6cc38b), 0, 0, 2);
  ImGui::EndGroup();

  // Raw map at its resolution, with its colour scale.
  ImGui::SameLine(0, fs);
  ImGui::BeginGroup();
  const float raw = std::min(side * 0.5f, fs * 11);
  if (res) {
    const int64_t h = res->cam.dim(0), w = res->cam.dim(1);
    ImGui::PushFont(fonts.bold);
    ImGui::Text("raw %lldx%lld", (long long)h, (long long)w);
    ImGui::PopFont();
    float lo = 0, hi = 0;
    value_range(res->cam.ptr(), h * w, &lo, &hi);
    auto& [made, tex] = tex_["raw"];
    const std::string want = shown_["cam"].key + "|" + std::to_string(int(cmap));
    if (made != want || tex.empty()) {
      tex.set(map_image(res->cam.ptr(), h, w, cmap, lo, hi), false);
      made = want;
    }
    const ImVec2 r = ImGui::GetCursorScreenPos();
    const float rh = raw * float(h) / float(std::max<int64_t>(1, w));
    ImGui::Dummy(ImVec2(raw, rh));
    draw_texture(dl, tex, r, ImVec2(r.x + raw, r.y + rh));
    report_map("gradcam:raw", r, ImVec2(r.x + raw, r.y + rh), what, stale);
    if (ImGui::IsItemHovered()) {
      const ImVec2 mp = ImGui::GetIO().MousePos;
      const int64_t cx = std::clamp<int64_t>(int64_t((mp.x - r.x) / raw * float(w)), 0, w - 1);
      const int64_t cy = std::clamp<int64_t>(int64_t((mp.y - r.y) / rh * float(h)), 0, h - 1);
      ImGui::SetTooltip("cell (%lld, %lld): %.4g", (long long)cy, (long long)cx,
                        double(res->cam.data[size_t(cy * w + cx)]));
    }
    ImGui::SameLine();
    draw_color_scale("raw_scale", "cam", cmap, lo, hi, ImVec2(fs * 4.5f, rh + fs * 1.4f), fonts);
    if (probe::enabled()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g..%.4g", double(lo), double(hi));
      probe::fact("cam_range", buf);
      probe::fact("cam_size", std::to_string(h) + "x" + std::to_string(w));
    }
    ImGui::TextDisabled("overlay: max-normalised,\nbilinear to %dx%d", in->shown.w, in->shown.h);
    if (!res->note.empty()) {
      ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + raw + fs * 5);
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
      ImGui::TextWrapped("\xE2\x9A\xA0 %s", res->note.c_str());
      ImGui::PopStyleColor();
      ImGui::PopTextWrapPos();
    }
    if (probe::enabled()) probe::fact("cam_note", res->note);
  }
  ImGui::EndGroup();

  // ---- Faithfulness.
  ImGui::SameLine(0, fs);
  ImGui::BeginGroup();
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Faithfulness");
  ImGui::PopFont();
  bool fstale = false, frunning = false;
  std::string ferr;
  std::shared_ptr<const Faithfulness> f;
  if (res && !stale) {
    // The scores rank the CAM just shown (same model revision: `res` is not stale).
    const auto x = in->x;
    const auto box = in->box;
    const std::string lay_c = lay;
    f = std::static_pointer_cast<const Faithfulness>(fetch(
        vm, "faith", in->id, "faith|" + what.substr(8),
        [x, box, lay_c, k, res](InferenceService::Context& c) -> InferenceService::Result {
          c.control.set_status("deletion/insertion of " + lay_c);
          return std::make_shared<Faithfulness>(
              faithfulness(c.ex, *x, res->cam, k, box, 0, &c.control));
        },
        &fstale, &ferr, &frunning));
  } else {
    f = std::static_pointer_cast<const Faithfulness>(shown_["faith"].result);
    fstale = f != nullptr;
    frunning = running;
  }
  if (frunning && state == "ready") state = fstale ? "recomputing" : "computing";
  if (!ferr.empty() && state == "ready") state = "failed";  // the scores alone failed
  if (!ferr.empty() && probe::enabled()) probe::fact("error", ferr);
  const float plot_w = ImGui::GetContentRegionAvail().x;
  if (!ferr.empty()) {
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + plot_w);
    text_error("Scores failed", ferr);
    ImGui::PopTextWrapPos();
  } else if (f) {
    if (curve_x_.size() != f->deletion.size()) {
      curve_x_.resize(f->deletion.size());
      for (size_t i = 0; i < curve_x_.size(); ++i)
        curve_x_[i] = float(i) / float(std::max<size_t>(1, curve_x_.size() - 1));
    }
    static thread_local std::vector<float> del, ins;
    del.assign(f->deletion.begin(), f->deletion.end());
    ins.assign(f->insertion.begin(), f->insertion.end());
    ImGui::PushStyleColor(ImGuiCol_Text, kDeletion);
    ImGui::Text("\xE2\x80\x94 deletion AUC %.3f", f->deletion_auc);
    ImGui::PopStyleColor();
    ImGui::SameLine();
    ImGui::TextDisabled("(lower is better)");
    ImGui::PushStyleColor(ImGuiCol_Text, kInsertion);
    ImGui::Text("\xE2\x80\x94 insertion AUC %.3f", f->insertion_auc);
    ImGui::PopStyleColor();
    ImGui::SameLine();
    ImGui::TextDisabled("(higher is better)");
    if (f->pointing_hit) {
      ImGui::PushStyleColor(ImGuiCol_Text, *f->pointing_hit ? palette::kOk : palette::kWarning);
      ImGui::Text("pointing game: %s (peak at %lld,%lld)", *f->pointing_hit ? "hit" : "miss",
                  (long long)f->peak_x, (long long)f->peak_y);
      ImGui::PopStyleColor();
    } else {
      ImGui::TextDisabled("pointing game: the input has no box");
    }
    // The peak on the overlay.
    const ImVec2 pk(o.x + (float(f->peak_x) + 0.5f) * sx, o.y + (float(f->peak_y) + 0.5f) * sy);
    dl->AddCircle(pk, 6, IM_COL32(255, 255, 255, 230), 16, 2);
    dl->AddLine(ImVec2(pk.x - 10, pk.y), ImVec2(pk.x + 10, pk.y), IM_COL32(255, 255, 255, 230),
                1.5f);
    dl->AddLine(ImVec2(pk.x, pk.y - 10), ImVec2(pk.x, pk.y + 10), IM_COL32(255, 255, 255, 230),
                1.5f);
    PlotSpec spec;
    spec.title = "p(" + vm.class_name(k) + ")";
    spec.x_label = "fraction of pixels, most salient first";
    spec.x_min = 0;
    spec.x_max = 1;
    spec.y_percent = true;
    spec.y_include_zero = true;
    spec.series.push_back({"deletion", kDeletion, curve_x_, del, true, 2});
    spec.series.push_back({"insertion", kInsertion, curve_x_, ins, true, 2});
    const float ph = std::max(fs * 8, side - ImGui::GetTextLineHeightWithSpacing() * 3);
    draw_plot("faithfulness", spec, ImVec2(plot_w, ph), fonts);
    if (probe::enabled()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", f->deletion_auc);
      probe::fact("deletion_auc", buf);
      std::snprintf(buf, sizeof buf, "%.4f", f->insertion_auc);
      probe::fact("insertion_auc", buf);
      probe::fact("pointing_hit", f->pointing_hit ? (*f->pointing_hit ? "hit" : "miss") : "");
    }
  } else if (!err.empty()) {
    ImGui::TextDisabled("no scores: they rank the pixels of the map");
  } else {
    ImGui::TextDisabled("computing deletion and insertion\xE2\x80\xA6");
  }
  ImGui::EndGroup();

  // ---- Every stage at once.
  ImGui::Separator();
  ImGui::PushFont(fonts.bold);
  ImGui::Text("Every stage \xC2\xB7 %s \xC2\xB7 %s", vm.class_name(k).c_str(),
              cam_method_title(method));
  ImGui::PopFont();
  const float tile = std::min(ImGui::GetContentRegionAvail().y - fs * 2.2f,
                              (avail_w - fs) / float(std::max<size_t>(1, stages_.size())) - fs);
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (i) ImGui::SameLine(0, fs);
    const std::string& st = stages_[i];
    ImGui::BeginGroup();
    bool s_stale = false, s_running = false;
    std::string s_err;
    const std::string sw = cam_what(st, k, method);
    auto r = std::static_pointer_cast<const CamResult>(fetch(vm, "strip:" + st, in->id, sw,
                                                             cam_work(in->x, st, k, method),
                                                             &s_stale, &s_err, &s_running));
    ImGui::TextUnformatted(st.c_str());
    if (r) {
      ImGui::SameLine();
      ImGui::TextDisabled("%lldx%lld", (long long)r->cam.dim(0), (long long)r->cam.dim(1));
    }
    const ImVec2 a = ImGui::GetCursorScreenPos();
    const ImVec2 b(a.x + tile, a.y + tile);
    const bool clicked = ImGui::InvisibleButton(("##strip" + st).c_str(), ImVec2(tile, tile));
    if (r) {
      auto& [made, tex] = tex_["strip:" + st];
      char key[64];
      std::snprintf(key, sizeof key, "|%d|%.3f", int(cmap), double(opacity));
      const std::string want = shown_["strip:" + st].key + key;
      if (made != want || tex.empty()) {
        tex.set(overlay_image(in->shown, r->saliency.ptr(), cmap, opacity), true);
        made = want;
      }
      draw_texture(dl, tex, a, b);
      report_map("strip:" + st, a, b, sw, s_stale);
    } else {
      dl->AddRectFilled(a, b, palette::kPanel);
    }
    if (st == lay) dl->AddRect(a, b, palette::kAccent, 0, 0, 2);
    if (!s_err.empty()) {
      dl->AddText(ImVec2(a.x + 4, a.y + 4), palette::kError, "failed");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", s_err.c_str());
    } else if (s_running) {
      badge(dl, a, "\xE2\x80\xA6");
    }
    if (clicked) layer = st;
    ImGui::EndGroup();
  }
  finish(state);
}

}  // namespace fw::gui
