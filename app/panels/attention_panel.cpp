#include "app/panels/attention_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui/imgui_canvas.h"
#include "app/gui/ui_probe.h"
#include "core/error.h"
#include "views/faithfulness.h"  // saliency(): the same bilinear upsampling as the scores
#include "views/tee_canvas.h"
#include "views/text_metrics.h"

namespace fw::gui {

namespace {

using State = InferenceService::State;

struct AttentionResult {
  Tensor a;  // [1, heads, N, N]
};
struct RowResult {
  Tensor row;  // [N]
};

int64_t token_at(const MixerInfo& m, ImVec2 px, int W, int H) {
  const int64_t gx = std::clamp<int64_t>(int64_t(px.x * float(m.w) / float(W)), 0, m.w - 1);
  const int64_t gy = std::clamp<int64_t>(int64_t(px.y * float(m.h) / float(H)), 0, m.h - 1);
  return m.prefix + gy * m.w + gx;
}

ImVec2 pixel_of(const MixerInfo& m, int64_t token, int W, int H) {
  const int64_t t = std::max<int64_t>(0, token - m.prefix);
  return ImVec2((float(t % m.w) + 0.5f) * float(W) / float(m.w),
                (float(t / m.w) + 0.5f) * float(H) / float(m.h));
}

// The query cell of grid h x w drawn over a..b.
void mark_cell(ImDrawList* dl, ImVec2 a, ImVec2 b, const MixerInfo& m, int64_t token) {
  const int64_t t = token - m.prefix;
  if (t < 0) return;
  const float cw = (b.x - a.x) / float(m.w), ch = (b.y - a.y) / float(m.h);
  const ImVec2 p(a.x + float(t % m.w) * cw, a.y + float(t / m.w) * ch);
  dl->AddRect(p, ImVec2(p.x + cw, p.y + ch), IM_COL32(255, 255, 255, 240), 0, 0, 2);
  dl->AddRect(ImVec2(p.x - 1, p.y - 1), ImVec2(p.x + cw + 1, p.y + ch + 1), IM_COL32(0, 0, 0, 200),
              0, 0, 1);
}

}  // namespace

void AttentionPanel::refresh_lists(const ViewModel& vm) {
  if (lists_for_ == vm.version()) return;
  lists_for_ = vm.version();
  mixers_.clear();
  stages_with_attention_.clear();
  lists_error_.clear();
  const FlatGraph* fg = vm.flat();
  if (!fg || !vm.graph()) return;
  try {
    mixers_ = token_mixers(*vm.graph(), *fg);
    for (const MixerInfo& m : mixers_) {
      if (m.kind != "attention") continue;
      const std::string stage = m.path.substr(0, m.path.find(".blocks."));
      if (stage != m.path && std::find(stages_with_attention_.begin(), stages_with_attention_.end(),
                                       stage) == stages_with_attention_.end())
        stages_with_attention_.push_back(stage);
    }
  } catch (const std::exception& e) {
    lists_error_ = e.what();
  }
}

const std::vector<MixerInfo>& AttentionPanel::mixers(const ViewModel& vm) {
  refresh_lists(vm);
  return mixers_;
}

const MixerInfo* AttentionPanel::find_mixer(const std::string& path) const {
  for (const MixerInfo& m : mixers_)
    if (m.path == path) return &m;
  return nullptr;
}

std::string AttentionPanel::shown_layer(const ViewModel& vm) {
  refresh_lists(vm);
  if (!layer.empty()) return layer;
  for (const MixerInfo& m : mixers_)
    if (m.kind == "attention") return m.path;
  return mixers_.empty() ? "" : mixers_.back().path;
}

std::shared_ptr<const void> AttentionPanel::fetch(ViewModel& vm, const std::string& input_id,
                                                  const std::string& what,
                                                  InferenceService::Work work, std::string* error,
                                                  bool* stale) {
  vm.service().request(input_id, what, std::move(work));
  const auto st = vm.service().get(input_id, what);
  // The slot: the request without its query (a hovered row replaces the last row shown).
  const std::string slot = what.substr(0, what.find("|q="));
  *stale = false;
  if (st.state == State::Done) return last_[slot] = st.result;
  if (st.state == State::Failed) {
    *error = st.error;
    last_.erase(slot);
    return nullptr;
  }
  pending_ = true;
  auto it = last_.find(slot);
  if (it == last_.end()) return nullptr;
  *stale = true;
  return it->second;
}

views::MapTile AttentionPanel::map_tile(const std::string& id, const ViewInput& in,
                                        const MixerInfo& m, const float* row, float hi,
                                        const std::string& source, const std::string& caption,
                                        bool stale) {
  auto& [made, img] = images_[id];
  char key[64];
  std::snprintf(key, sizeof key, "|%d|%g", int(cmap), double(hi));
  const std::string want = in.id + "|" + source + key;
  if (made != want || img.empty()) {
    const Tensor s = saliency(row, m.h, m.w, in.shown.h, in.shown.w);
    const Image o = overlay_image(in.shown, s.ptr(), cmap, 0.75f, hi);
    img = views::picture_image(o.w, o.h, o.rgb.data(), true);
    made = want;
  }
  return {id, caption, img, stale};
}

void AttentionPanel::show_picture(const views::AttentionPicture& a, const ViewInput& in,
                                  const MixerInfo& m, const std::vector<const float*>& rows,
                                  const Fonts& fonts, bool primary) {
  const ImVec2 o = ImGui::GetCursorScreenPos();
  const views::Transform at{{o.x, o.y}, 1};
  (primary ? shown_ : compared_) = Shown{a, at};
  ImDrawList* dl = ImGui::GetWindowDrawList();
  {
    const views::Picture pic =
        views::attention_picture(a, [](const views::PictureItem& it) { report_item(it); });
    ImGuiCanvas screen(dl, fonts);
    if (tee_) {
      views::TeeCanvas both(screen, *tee_);
      pic.draw(both, at);
    } else {
      pic.draw(screen, at);
    }
  }
  // Picking over the maps: the key token under the mouse becomes the query; a click pins it.
  const views::AttentionLayout l = views::attention_layout(a);
  for (size_t i = 0; i < l.tiles.size() && i < rows.size(); ++i) {
    const ImVec2 ta(o.x + l.tiles[i].first.x, o.y + l.tiles[i].first.y);
    const ImVec2 tb(o.x + l.tiles[i].second.x, o.y + l.tiles[i].second.y);
    ImGui::SetCursorScreenPos(ta);
    ImGui::InvisibleButton(("##tile" + a.tiles[i].id).c_str(),
                           ImVec2(std::max(1.0f, tb.x - ta.x), std::max(1.0f, tb.y - ta.y)));
    if (!ImGui::IsItemHovered()) continue;
    const ImVec2 mp = ImGui::GetIO().MousePos;
    hover_px_ = ImVec2((mp.x - ta.x) / (tb.x - ta.x) * float(in.shown.w),
                       (mp.y - ta.y) / (tb.y - ta.y) * float(in.shown.h));
    hover_now_ = true;
    const int64_t t = token_at(m, *hover_px_, in.shown.w, in.shown.h) - m.prefix;
    ImGui::SetTooltip("key token %lld: %.4g", (long long)(t + m.prefix), double(rows[i][t]));
    if (ImGui::IsItemClicked()) pinned_px_ = pinned_px_ ? std::nullopt : hover_px_;
  }
  ImGui::SetCursorScreenPos(o);
  ImGui::Dummy(ImVec2(l.size.x, l.size.y));
}

views::Picture AttentionPanel::picture() const {
  if (!shown_) {
    const std::string say = "no attention maps to export";
    const float fs = 15;
    views::Picture p;
    p.size = {views::text_width(say, {views::FontFace::Sans, fs}), fs};
    p.background = views::view_palette::kBackground;
    p.draw = [say, fs](views::Canvas& c, const views::Transform& t) {
      c.text(t({0, 0}), say, {views::FontFace::Sans, t(fs)}, views::view_palette::kTextDim);
    };
    return p;
  }
  if (!compared_) return views::attention_picture(shown_->picture);
  return views::stack_pictures(
      {views::attention_picture(shown_->picture), views::attention_picture(compared_->picture)},
      shown_->picture.font * 1.5f);
}

const views::Transform& AttentionPanel::picture_transform() const {
  static const views::Transform none;
  return shown_ ? shown_->at : none;
}

std::vector<std::pair<views::Picture, views::Transform>> AttentionPanel::screen_pictures() const {
  std::vector<std::pair<views::Picture, views::Transform>> out;
  for (const std::optional<Shown>* s : {&shown_, &compared_})
    if (*s) out.emplace_back(views::attention_picture((*s)->picture), (*s)->at);
  return out;
}

void AttentionPanel::draw_mixer(ViewModel& vm, const ViewInput& in, const MixerInfo& m,
                                const Fonts& fonts, float width, float height, bool primary) {
  const float fs = ImGui::GetFontSize();
  const int64_t q = class_token_query && m.prefix > 0 ? 0 : token_at(m, query_px_, in.shown.w, in.shown.h);
  if (primary) query_token_ = q;
  const int64_t qr = (q - m.prefix) / std::max<int64_t>(1, m.w),
                qc = (q - m.prefix) % std::max<int64_t>(1, m.w);
  // The picture's frame: the mixer's path and what the query is, the grid and its query cell.
  views::AttentionPicture pic;
  pic.font = fs;
  pic.spacing = ImGui::GetStyle().ItemSpacing.x;
  pic.title = m.path;
  {
    char sub[256];
    if (q < m.prefix)
      std::snprintf(sub, sizeof sub,
                    "%s \xC2\xB7 %lld tokens (class token + %lldx%lld patches) \xC2\xB7 query "
                    "%lld: the class token",
                    m.kind.c_str(), (long long)m.tokens, (long long)m.h, (long long)m.w,
                    (long long)q);
    else
      std::snprintf(
          sub, sizeof sub,
          "%s \xC2\xB7 %lld tokens (%lldx%lld) \xC2\xB7 query %lld (row %lld, col %lld)%s",
          m.kind.c_str(), (long long)m.tokens, (long long)m.h, (long long)m.w, (long long)q,
          (long long)qr, (long long)qc, pinned_px_ ? " pinned" : "");
    pic.subtitle = sub;
  }
  pic.input_w = in.shown.w;
  pic.input_h = in.shown.h;
  pic.grid_w = int(m.w);
  pic.grid_h = int(m.h);
  if (!(class_token_query && m.prefix > 0))  // the class token has no cell to mark
    pic.query_cell = token_at(m, query_px_, in.shown.w, in.shown.h) - m.prefix;
  auto colors = [&] {
    std::vector<views::Color> c;
    for (int i = 0; i <= 32; ++i) c.push_back(colormap_u32(cmap, float(i) / 32));
    return c;
  };
  // Before any maps (computing, failed): the frame's lines in ImGui and what is missing.
  auto header = [&] {
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted(pic.title.c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::TextDisabled("%s", pic.subtitle.c_str());
  };
  const std::string prefix = primary ? "" : "compare:";
  const auto x = in.x;
  const std::string path = m.path;
  std::string err;
  bool stale = false;
  if (m.kind == "attention") {
    auto res = std::static_pointer_cast<const AttentionResult>(fetch(
        vm, in.id, "attention|" + path,
        [x, path](InferenceService::Context& c) -> InferenceService::Result {
          c.control.set_status("attention of " + path);
          return std::make_shared<AttentionResult>(
              AttentionResult{attention_maps(c.ex, c.graph, *x, path)});
        },
        &err, &stale));
    if (!err.empty()) return header(), text_error("Attention failed", err);
    if (!res) {
      header();
      ImGui::TextDisabled("computing the attention maps\xE2\x80\xA6");
      return;
    }
    const Tensor& A = res->a;
    const int64_t heads = A.dim(1), N = A.dim(2);
    if (N != m.tokens)
      return header(), text_error("Attention", "token count differs from the grid");
    // Rows of the query, per head, and their mean (spatial tokens only).
    const int64_t S = m.h * m.w;
    std::vector<std::vector<float>> rows(size_t(heads + 1), std::vector<float>(size_t(S)));
    float hi = 0;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < S; ++j) {
        const float v = A.data[size_t(((h * N) + q) * N + m.prefix + j)];
        rows[size_t(h)][size_t(j)] = v;
        rows[size_t(heads)][size_t(j)] += v / float(heads);
        hi = std::max(hi, v);
      }
    const int tiles = int(heads + 1 + (primary && rollout ? 1 : 0));
    const float scale_w = fs * 5;
    const float side =
        std::clamp((width - scale_w) / float(tiles) - ImGui::GetStyle().ItemSpacing.x, fs * 5,
                   std::min(fs * 11, height * 0.42f));
    pic.tile = side;
    pic.scale_width = scale_w;
    std::vector<const float*> tile_rows;
    char source[96];
    std::snprintf(source, sizeof source, "%p|%lld", static_cast<const void*>(res.get()),
                  (long long)q);
    for (int64_t h = 0; h <= heads; ++h) {
      const std::string cap = h < heads ? "head " + std::to_string(h) : "mean of heads";
      pic.tiles.push_back(
          map_tile(prefix + (h < heads ? "attention:head" + std::to_string(h) : "attention:mean"),
                   in, m, rows[size_t(h)].data(), hi, source, cap, stale));
      tile_rows.push_back(rows[size_t(h)].data());
    }
    // Rollout over a stage or the network: the query's row (on its own range).
    std::vector<float> rrow;
    if (primary && rollout) {
      const std::string under = rollout_under;
      std::string rerr;
      bool rstale = false;
      auto rr = std::static_pointer_cast<const AttentionResult>(fetch(
          vm, in.id, "rollout|" + under,
          [x, under](InferenceService::Context& c) -> InferenceService::Result {
            c.control.set_status("attention rollout");
            return std::make_shared<AttentionResult>(
                AttentionResult{attention_rollout(c.ex, c.graph, *x, under)});
          },
          &rerr, &rstale));
      if (!rerr.empty()) {
        pic.note = "\xE2\x9A\xA0 Rollout failed: " + rerr;
        pic.note_error = true;
      } else if (rr && rr->a.dim(rr->a.rank() - 1) == N) {
        rrow.assign(size_t(S), 0.0f);
        float rhi = 0;
        for (int64_t j = 0; j < S; ++j)
          rhi = std::max(rhi, rrow[size_t(j)] = rr->a.data[size_t(q * N + m.prefix + j)]);
        std::snprintf(source, sizeof source, "%p|%lld", static_cast<const void*>(rr.get()),
                      (long long)q);
        pic.tiles.push_back(
            map_tile("attention:rollout", in, m, rrow.data(), rhi, source,
                     "rollout (" + (under.empty() ? std::string("network") : under) + ")", rstale));
        tile_rows.push_back(rrow.data());
      } else if (rr) {
        pic.note = "rollout: other token count";
      } else {
        pic.note = "rollout\xE2\x80\xA6";
      }
    }
    pic.scale.id = prefix + "att_scale";
    pic.scale.title = "p(attn)";
    pic.scale.lo = 0;
    pic.scale.hi = hi;
    pic.scale.colors = colors();
    show_picture(pic, in, m, tile_rows, fonts, primary);
    if (primary && probe::enabled()) {
      probe::fact("heads", std::to_string(heads));
      probe::fact("tokens", std::to_string(N));
    }
    if (!primary) return;
    // The full matrices, zoomable.
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted("Attention matrices");
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::TextDisabled("rows: queries, columns: keys; the query's row is marked");
    ImGui::SameLine();
    const float mh_fit = ImGui::GetContentRegionAvail().y - fs * 4.5f;
    const float fit =
        std::max(2.0f, std::min((width - fs * 6) / float(heads) / float(N) - 1, mh_fit / float(N)));
    if (matrix_cell <= 0) matrix_cell = std::floor(std::min(fit, fs * 1.5f));
    ImGui::SetNextItemWidth(fs * 8);
    ImGui::SliderFloat("##zoom", &matrix_cell, 2.0f, 40.0f, "cell %.0f px");
    const float mh = std::max(fs * 4, ImGui::GetContentRegionAvail().y - fs * 0.5f);
    ImGui::BeginChild("matrices", ImVec2(width, std::min(mh, float(N) * matrix_cell + fs * 4)),
                      false, ImGuiWindowFlags_HorizontalScrollbar);
    float mlo = 1, mhi = 0;
    value_range(A.ptr(), A.size(), &mlo, &mhi);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (int64_t h = 0; h < heads; ++h) {
      if (h) ImGui::SameLine(0, fs);
      ImGui::BeginGroup();
      ImGui::Text("head %lld", (long long)h);
      const ImVec2 a = ImGui::GetCursorScreenPos();
      const float side_m = matrix_cell * float(N);
      const ImVec2 b(a.x + side_m, a.y + side_m);
      ImGui::InvisibleButton(("##matrix" + std::to_string(h)).c_str(), ImVec2(side_m, side_m));
      auto& [made, tex] = tex_["matrix" + std::to_string(h)];
      const std::string want = in.id + "|" + path + "|" + std::to_string(int(cmap)) + "|" +
                               std::to_string(reinterpret_cast<uintptr_t>(res.get()));
      if (made != want || tex.empty()) {
        tex.set(map_image(A.ptr() + h * N * N, N, N, cmap, 0, mhi), false);
        made = want;
      }
      draw_texture(dl, tex, a, b);
      dl->AddRect(ImVec2(a.x, a.y + float(q) * matrix_cell),
                  ImVec2(b.x, a.y + float(q + 1) * matrix_cell), IM_COL32(255, 255, 255, 230), 0, 0,
                  1.5f);
      report_map("attention:matrix" + std::to_string(h), a, b, "head " + std::to_string(h), stale);
      if (ImGui::IsItemHovered()) {
        const ImVec2 mp = ImGui::GetIO().MousePos;
        const int64_t r = std::clamp<int64_t>(int64_t((mp.y - a.y) / matrix_cell), 0, N - 1);
        const int64_t c = std::clamp<int64_t>(int64_t((mp.x - a.x) / matrix_cell), 0, N - 1);
        ImGui::SetTooltip("head %lld: query %lld -> key %lld: %.4f", (long long)h, (long long)r,
                          (long long)c, double(A.data[size_t((h * N + r) * N + c)]));
        if (ImGui::IsItemClicked()) pinned_px_ = pixel_of(m, r, in.shown.w, in.shown.h);
      }
      ImGui::EndGroup();
    }
    ImGui::SameLine(0, fs);
    draw_color_scale("matrix_scale", "p", cmap, 0, mhi,
                     ImVec2(fs * 4.5f, std::min(float(N) * matrix_cell, fs * 12) + fs * 1.4f),
                     fonts);
    ImGui::EndChild();
    return;
  }
  // Any other mixer: the effective mixing map's row of the query.
  auto res = std::static_pointer_cast<const RowResult>(fetch(
      vm, in.id, "mixing|" + path + "|q=" + std::to_string(q),
      [x, path, q](InferenceService::Context& c) -> InferenceService::Result {
        c.control.set_status("mixing map of " + path);
        Tensor r = mixing_map(c.backend, c.ex, c.graph, c.weights, *x, path, q, &c.control);
        return std::make_shared<RowResult>(RowResult{std::move(r)});
      },
      &err, &stale));
  if (!err.empty()) return header(), text_error("Mixing map failed", err);
  if (!res) {
    header();
    ImGui::TextDisabled("computing the mixing map\xE2\x80\xA6");
    return;
  }
  const int64_t S = m.h * m.w;
  if (res->row.size() < m.prefix + S) return header(), text_error("Mixing map", "unexpected size");
  const float* row = res->row.ptr() + m.prefix;
  float lo = 0, hi = 0;
  value_range(row, S, &lo, &hi);
  pic.tile = std::max(fs * 4, std::min(std::min(fs * 16, height - fs * 3.5f), width - fs * 6));
  pic.scale_width = fs * 5;
  char source[64];
  std::snprintf(source, sizeof source, "%p", static_cast<const void*>(res.get()));
  pic.tiles.push_back(map_tile(prefix + "mixing:" + path, in, m, row, hi, source,
                               "|dy_q/dx_j|_F, query " + std::to_string(q), stale));
  pic.scale.id = prefix + "mix_scale";
  pic.scale.title = "|J|_F";
  pic.scale.lo = 0;
  pic.scale.hi = hi;
  pic.scale.colors = colors();
  show_picture(pic, in, m, {row}, fonts, primary);
}

void AttentionPanel::draw(ViewModel& vm, InputPanel& input, const AppState& app, const Fonts& fonts,
                          ImVec2 size) {
  pending_ = false;
  ImGui::BeginChild("attention_view", size, true);
  refresh_lists(vm);
  const float fs = ImGui::GetFontSize();
  const std::string lay = shown_layer(vm);
  auto finish = [&](const std::string& st) {
    state_ = st;
    if (probe::enabled()) probe::fact("state", st);
    ImGui::EndChild();
  };
  // Controls.
  auto mixer_label = [&](const MixerInfo& m) {
    return m.path + "  (" + m.kind + ", " + std::to_string(m.h) + "x" + std::to_string(m.w) + ")";
  };
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Mixer");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(fs * 16);
  const MixerInfo* cur = find_mixer(lay);
  if (ImGui::BeginCombo("##mixer", lay.empty() ? "(none)" : lay.c_str())) {
    for (const MixerInfo& m : mixers_)
      if (ImGui::Selectable(mixer_label(m).c_str(), m.path == lay)) layer = m.path;
    ImGui::EndCombo();
  }
  probe::note("attention:mixer");
  if (app.editor.selection.size() == 1 && app.doc.graph().contains(*app.editor.selection.begin())) {
    const std::string p = app.doc.graph().path(*app.editor.selection.begin());
    for (const MixerInfo& m : mixers_)
      if (p != lay && (m.path == p || m.path.rfind(p + ".", 0) == 0)) {
        ImGui::SameLine();
        if (ImGui::SmallButton(("use selection: " + m.path).c_str())) layer = m.path;
        break;
      }
  }
  if (cur && cur->prefix > 0) {
    ImGui::SameLine(0, fs);
    ImGui::Checkbox("class token", &class_token_query);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("query = the class token (token 0); off: the patch under the mouse");
  }
  if (cur && cur->kind == "attention") {
    ImGui::SameLine(0, fs);
    ImGui::Checkbox("rollout", &rollout);
    if (rollout) {
      ImGui::SameLine();
      ImGui::SetNextItemWidth(fs * 9);
      if (ImGui::BeginCombo("##under",
                            rollout_under.empty() ? "whole network" : rollout_under.c_str())) {
        if (ImGui::Selectable("whole network", rollout_under.empty())) rollout_under.clear();
        for (const std::string& s : stages_with_attention_)
          if (ImGui::Selectable(s.c_str(), s == rollout_under)) rollout_under = s;
        ImGui::EndCombo();
      }
    }
  }
  ImGui::SameLine(0, fs);
  int c = int(cmap);
  ImGui::SetNextItemWidth(fs * 5.5f);
  if (ImGui::Combo("##cmap", &c, kColormapNames, 4)) cmap = Colormap(c);
  // The compared mixer last but one, as wide as the row leaves room for beside the export button.
  ImGui::SameLine(0, fs);
  ImGui::TextUnformatted("Compare");
  ImGui::SameLine();
  const char* export_label = "Export picture\xE2\x80\xA6";
  const float export_w = ImGui::CalcTextSize(export_label).x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(
      std::clamp(ImGui::GetContentRegionAvail().x - export_w - ImGui::GetStyle().ItemSpacing.x,
                 fs * 6, fs * 16));
  if (ImGui::BeginCombo("##compare", compare.empty() ? "(none)" : compare.c_str())) {
    if (ImGui::Selectable("(none)", compare.empty())) compare.clear();
    for (const MixerInfo& m : mixers_)
      if (m.path != lay && ImGui::Selectable(mixer_label(m).c_str(), m.path == compare))
        compare = m.path;
    ImGui::EndCombo();
  }
  if (!compare.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", compare.c_str());
  ImGui::SameLine();
  ImGui::BeginDisabled(!shown_);  // the maps of the last frame
  if (ImGui::Button(export_label)) export_asked_ = true;
  ImGui::EndDisabled();
  probe::note("attention:export");
  ImGui::Separator();
  shown_.reset();
  compared_.reset();
  if (probe::enabled()) {
    probe::fact("layer", lay);
    probe::fact("compare", compare);
  }

  const ViewInput* in = input.input();
  if (!vm.problem().empty()) {
    text_error("No model", vm.problem());
    return finish("no model");
  }
  if (!lists_error_.empty()) {
    text_error("Token mixers", lists_error_);
    return finish("failed");
  }
  if (input.draw_missing("Pick an input on the left.", &pending_)) return finish("no input");
  if (probe::enabled()) probe::fact("input", in->id);
  if (!cur) {
    text_error(
        "No mixer",
        lay.empty()
            ? "this graph has no token mixer"
            : "'" + lay +
                  "' is not a token mixer (pooling, sepconv, attention, random_mixing, identity)");
    return finish("failed");
  }
  // The query: hovered (last frame), else pinned, else the box's centre or the image's.
  if (query && *query < cur->prefix) {
    class_token_query = true;
  } else if (query) {
    class_token_query = false;
    if (!pinned_px_) pinned_px_ = pixel_of(*cur, *query, in->shown.w, in->shown.h);
  }
  query.reset();
  const ImageArea& area = input.area();
  if (area.hovered) {
    hover_px_ = area.pixel;
    hover_now_ = true;
    if (area.clicked) pinned_px_ = pinned_px_ ? std::nullopt : std::optional<ImVec2>(area.pixel);
    if (area.clicked && cur->prefix > 0) class_token_query = false;  // a patch was picked
  }
  if (hover_now_ && hover_px_)
    query_px_ = *hover_px_;
  else if (pinned_px_)
    query_px_ = *pinned_px_;
  else if (in->box)
    query_px_ =
        ImVec2(float(in->box->x0 + in->box->x1) * 0.5f, float(in->box->y0 + in->box->y1) * 0.5f);
  else
    query_px_ = ImVec2(float(in->shown.w) * 0.5f, float(in->shown.h) * 0.5f);
  hover_now_ = false;
  hover_px_.reset();

  const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetContentRegionAvail().y;
  const MixerInfo* other = compare.empty() ? nullptr : find_mixer(compare);
  // With a second mixer: the first on top, the second below it, both for the same query pixel.
  const float top_h = other ? std::floor(h * (cur->kind == "attention" ? 0.6f : 0.5f)) : h;
  ImGui::BeginChild("primary", ImVec2(w, top_h), false);
  draw_mixer(vm, *in, *cur, fonts, ImGui::GetContentRegionAvail().x, top_h, true);
  ImGui::EndChild();
  if (other) {
    ImGui::BeginChild("compare", ImVec2(w, 0), true);
    draw_mixer(vm, *in, *other, fonts, ImGui::GetContentRegionAvail().x,
               ImGui::GetContentRegionAvail().y, false);
    ImGui::EndChild();
  } else if (!compare.empty()) {
    text_error("Compare", "'" + compare + "' is not a token mixer");
  }
  // The query on the input image.
  if (area.valid()) {
    ImDrawList* fg = ImGui::GetForegroundDrawList();
    fg->PushClipRect(area.a, area.b);
    mark_cell(fg, area.a, area.b, *cur, query_token_);
    fg->PopClipRect();
  }
  if (probe::enabled()) probe::fact("query", std::to_string(query_token_));
  finish(pending_ ? "computing" : "ready");
}

}  // namespace fw::gui
