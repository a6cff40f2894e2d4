#include "app/panels/gradcam_panel.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "app/gui/imgui_canvas.h"
#include "app/gui/ui_probe.h"
#include "core/error.h"
#include "views/node_geometry.h"
#include "views/tee_canvas.h"

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
  ImGui::SetNextItemWidth(fs * 10);
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
  const char* export_label = "Export picture\xE2\x80\xA6";
  const float export_w = ImGui::CalcTextSize(export_label).x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(
      std::max(fs * 7, ImGui::GetContentRegionAvail().x - export_w - ImGui::GetStyle().ItemSpacing.x));
  ImGui::SliderFloat("##opacity", &opacity, 0.0f, 1.0f, "opacity %.2f");
  ImGui::SameLine();
  if (ImGui::Button(export_label)) export_asked_ = true;
  probe::note("gradcam:export");
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

  // The picture of the maps and scores (views/view_pictures.h), drawn here and exported alike.
  views::GradcamPicture g;
  g.font = fs;
  g.side = side;
  g.raw_width = std::min(side * 0.5f, fs * 11);
  {
    char prob[32] = "";
    if (pred && k < int64_t(pred->probs.size()))
      std::snprintf(prob, sizeof prob, " %.1f%%", double(pred->probs[size_t(k)]) * 100);
    g.title = std::string(cam_method_title(method)) + " \xC2\xB7 " + lay + " \xC2\xB7 " +
              vm.class_name(k) + prob;
  }
  g.class_name = vm.class_name(k);
  g.input_w = in->shown.w;
  g.input_h = in->shown.h;
  if (in->box) g.box = std::array<int, 4>{int(in->box->x0), int(in->box->y0), int(in->box->x1), int(in->box->y1)};
  g.stale = stale;
  if (err.empty() && running) g.badge = stale ? "recomputing\xE2\x80\xA6" : "computing\xE2\x80\xA6";
  float lo = 0, hi = 0;
  if (res) {
    const int64_t h = res->cam.dim(0), w = res->cam.dim(1);
    char key[64];
    std::snprintf(key, sizeof key, "|%d|%.3f", int(cmap), double(opacity));
    auto& [made, img] = images_["overlay"];
    if (made != shown_["cam"].key + key || img.empty()) {
      const Image o = overlay_image(in->shown, res->saliency.ptr(), cmap, opacity);
      img = views::picture_image(o.w, o.h, o.rgb.data(), true);
      made = shown_["cam"].key + key;
    }
    g.overlay = img;
    value_range(res->cam.ptr(), h * w, &lo, &hi);
    auto& [rmade, rimg] = images_["raw"];
    const std::string want = shown_["cam"].key + "|" + std::to_string(int(cmap));
    if (rmade != want || rimg.empty()) {
      const Image r = map_image(res->cam.ptr(), h, w, cmap, lo, hi);
      rimg = views::picture_image(r.w, r.h, r.rgb.data(), false);
      rmade = want;
    }
    g.raw = rimg;
    g.raw_title = "raw " + std::to_string(h) + "x" + std::to_string(w);
    g.scale.id = "raw_scale";
    g.scale.title = "cam";
    g.scale.lo = lo;
    g.scale.hi = hi;
    for (int i = 0; i <= 32; ++i) g.scale.colors.push_back(colormap_u32(cmap, float(i) / 32));
    g.overlay_note = "overlay: max-normalised,\nbilinear to " + std::to_string(in->shown.w) + "x" +
                     std::to_string(in->shown.h);
    g.warning = res->note;
    if (probe::enabled()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g..%.4g", double(lo), double(hi));
      probe::fact("cam_range", buf);
      probe::fact("cam_size", std::to_string(h) + "x" + std::to_string(w));
      probe::fact("cam_note", res->note);
    }
  }
  if (!err.empty() && probe::enabled()) probe::fact("error", err);

  // ---- Faithfulness.
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
  g.plot_width = std::max(fs * 12, avail_w - (side + fs + g.raw_width + fs * 10 / 15.0f + fs * 4.5f + fs));
  g.plot_height = std::max(fs * 8, side - (fs + fs * 0.4f) * 3);
  if (!ferr.empty()) {
    g.scores_note = "\xE2\x9A\xA0 Scores failed: " + ferr;
    g.scores_failed = true;
  } else if (f) {
    g.deletion.assign(f->deletion.begin(), f->deletion.end());
    g.insertion.assign(f->insertion.begin(), f->insertion.end());
    g.deletion_auc = f->deletion_auc;
    g.insertion_auc = f->insertion_auc;
    g.pointing_hit = f->pointing_hit;
    g.peak_x = int(f->peak_x);
    g.peak_y = int(f->peak_y);
    if (probe::enabled()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", f->deletion_auc);
      probe::fact("deletion_auc", buf);
      std::snprintf(buf, sizeof buf, "%.4f", f->insertion_auc);
      probe::fact("insertion_auc", buf);
      probe::fact("pointing_hit", f->pointing_hit ? (*f->pointing_hit ? "hit" : "miss") : "");
    }
  } else if (!err.empty()) {
    g.scores_note = "no scores: they rank the pixels of the map";
  } else {
    g.scores_note = "computing deletion and insertion\xE2\x80\xA6";
  }

  // Draw it at the cursor; the hover read-outs and the error text in ImGui over it.
  const views::GradcamLayout l = views::gradcam_layout(g);
  const ImVec2 o = ImGui::GetCursorScreenPos();
  picture_ = g;
  transform_ = views::Transform{{o.x, o.y}, 1};
  {
    const views::Picture pic = views::gradcam_picture(g, [](const views::PictureItem& it) {
      report_item(it);
    });
    ImGuiCanvas screen(dl, fonts);
    if (tee_) {
      views::TeeCanvas both(screen, *tee_);
      pic.draw(both, transform_);
    } else {
      pic.draw(screen, transform_);
    }
  }
  auto at = [&](views::Vec2 p) { return ImVec2(o.x + p.x, o.y + p.y); };
  if (!err.empty()) {
    ImGui::SetCursorScreenPos(ImVec2(o.x + l.overlay_min.x + 8, o.y + l.overlay_min.y + 8));
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + side - 16);
    text_error("Grad-CAM failed", err);
    ImGui::PopTextWrapPos();
  }
  if (res) {
    const int64_t h = res->cam.dim(0), w = res->cam.dim(1);
    const ImVec2 r = at(l.raw_min), r1 = at(l.raw_max);
    ImGui::SetCursorScreenPos(r);
    ImGui::InvisibleButton("##raw", ImVec2(std::max(1.0f, r1.x - r.x), std::max(1.0f, r1.y - r.y)));
    if (ImGui::IsItemHovered()) {
      const ImVec2 mp = ImGui::GetIO().MousePos;
      const int64_t cx = std::clamp<int64_t>(int64_t((mp.x - r.x) / (r1.x - r.x) * float(w)), 0, w - 1);
      const int64_t cy = std::clamp<int64_t>(int64_t((mp.y - r.y) / (r1.y - r.y) * float(h)), 0, h - 1);
      ImGui::SetTooltip("cell (%lld, %lld): %.4g", (long long)cy, (long long)cx,
                        double(res->cam.data[size_t(cy * w + cx)]));
    }
  }
  if (!g.deletion.empty()) {
    const ImVec2 a = at(l.area_min), b = at(l.area_max);
    ImGui::SetCursorScreenPos(a);
    ImGui::InvisibleButton("##curves", ImVec2(std::max(1.0f, b.x - a.x), std::max(1.0f, b.y - a.y)));
    if (ImGui::IsItemHovered()) {
      const ImVec2 mp = ImGui::GetIO().MousePos;
      const double x = std::clamp(double((mp.x - a.x) / (b.x - a.x)), 0.0, 1.0);
      dl->AddLine(ImVec2(mp.x, a.y), ImVec2(mp.x, b.y), palette::kTextDim, 1.0f);
      const size_t n = g.deletion.size();
      const size_t i = std::min(n - 1, size_t(x * double(n - 1) + 0.5));
      ImGui::SetTooltip("fraction of pixels %.2f\ndeletion: %.2f%%\ninsertion: %.2f%%",
                        double(i) / double(std::max<size_t>(1, n - 1)), double(g.deletion[i]) * 100,
                        double(g.insertion[i]) * 100);
    }
  }
  ImGui::SetCursorScreenPos(o);
  ImGui::Dummy(ImVec2(l.size.x, l.size.y));

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
