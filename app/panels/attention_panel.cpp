#include "app/panels/attention_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui/ui_probe.h"
#include "core/error.h"
#include "views/faithfulness.h"  // saliency(): the same bilinear upsampling as the scores

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

void AttentionPanel::map_tile(const std::string& id, const ViewInput& in, const MixerInfo& m,
                              const float* row, float hi, float side, const std::string& caption,
                              bool stale) {
  ImGui::BeginGroup();
  ImGui::TextUnformatted(caption.c_str());
  const ImVec2 a = ImGui::GetCursorScreenPos();
  const ImVec2 b(a.x + side, a.y + side * float(in.shown.h) / float(std::max(1, in.shown.w)));
  ImGui::InvisibleButton(("##tile" + id).c_str(), ImVec2(b.x - a.x, b.y - a.y));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  auto& [made, tex] = tex_[id];
  char key[96];
  std::snprintf(key, sizeof key, "|%p|%d|%g|%lld", static_cast<const void*>(row), int(cmap),
                double(hi), (long long)query_token_);
  const std::string want = in.id + key;
  if (made != want || tex.empty()) {
    const Tensor s = saliency(row, m.h, m.w, in.shown.h, in.shown.w);
    tex.set(overlay_image(in.shown, s.ptr(), cmap, 0.75f, hi), true);
    made = want;
  }
  draw_texture(dl, tex, a, b);
  if (!(class_token_query && m.prefix > 0))  // the class token has no cell to mark
    mark_cell(dl, a, b, m, token_at(m, query_px_, in.shown.w, in.shown.h));
  report_map(id, a, b, caption, stale);
  if (ImGui::IsItemHovered()) {
    const ImVec2 mp = ImGui::GetIO().MousePos;
    hover_px_ = ImVec2((mp.x - a.x) / (b.x - a.x) * float(in.shown.w),
                       (mp.y - a.y) / (b.y - a.y) * float(in.shown.h));
    hover_now_ = true;
    const int64_t t = token_at(m, *hover_px_, in.shown.w, in.shown.h) - m.prefix;
    ImGui::SetTooltip("key token %lld: %.4g", (long long)(t + m.prefix), double(row[t]));
    if (ImGui::IsItemClicked()) pinned_px_ = pinned_px_ ? std::nullopt : hover_px_;
  }
  if (stale) dl->AddText(ImVec2(a.x + 4, a.y + 2), palette::kWarning, "recomputing\xE2\x80\xA6");
  ImGui::EndGroup();
}

void AttentionPanel::draw_mixer(ViewModel& vm, const ViewInput& in, const MixerInfo& m,
                                const Fonts& fonts, float width, float height, bool primary) {
  const float fs = ImGui::GetFontSize();
  const int64_t q = class_token_query && m.prefix > 0 ? 0 : token_at(m, query_px_, in.shown.w, in.shown.h);
  if (primary) query_token_ = q;
  const int64_t qr = (q - m.prefix) / std::max<int64_t>(1, m.w),
                qc = (q - m.prefix) % std::max<int64_t>(1, m.w);
  ImGui::PushFont(fonts.bold);
  ImGui::Text("%s", m.path.c_str());
  ImGui::PopFont();
  ImGui::SameLine();
  if (q < m.prefix)
    ImGui::TextDisabled(
        "%s \xC2\xB7 %lld tokens (class token + %lldx%lld patches) \xC2\xB7 query %lld: the class "
        "token",
        m.kind.c_str(), (long long)m.tokens, (long long)m.h, (long long)m.w, (long long)q);
  else
    ImGui::TextDisabled(
        "%s \xC2\xB7 %lld tokens (%lldx%lld) \xC2\xB7 query %lld (row %lld, col %lld)%s",
        m.kind.c_str(), (long long)m.tokens, (long long)m.h, (long long)m.w, (long long)q,
        (long long)qr, (long long)qc, pinned_px_ ? " pinned" : "");
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
    if (!err.empty()) return text_error("Attention failed", err);
    if (!res) {
      ImGui::TextDisabled("computing the attention maps\xE2\x80\xA6");
      return;
    }
    const Tensor& A = res->a;
    const int64_t heads = A.dim(1), N = A.dim(2);
    if (N != m.tokens) return text_error("Attention", "token count differs from the grid");
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
    for (int64_t h = 0; h <= heads; ++h) {
      if (h) ImGui::SameLine();
      const std::string cap = h < heads ? "head " + std::to_string(h) : "mean of heads";
      map_tile(prefix + (h < heads ? "attention:head" + std::to_string(h) : "attention:mean"), in,
               m, rows[size_t(h)].data(), hi, side, cap, stale);
    }
    // Rollout over a stage or the network: the query's row.
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
      ImGui::SameLine();
      if (!rerr.empty()) {
        ImGui::BeginGroup();
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + side);
        text_error("Rollout failed", rerr);
        ImGui::PopTextWrapPos();
        ImGui::EndGroup();
      } else if (rr && rr->a.dim(rr->a.rank() - 1) == N) {
        static thread_local std::vector<float> rrow;
        rrow.assign(size_t(S), 0.0f);
        float rhi = 0;
        for (int64_t j = 0; j < S; ++j)
          rhi = std::max(rhi, rrow[size_t(j)] = rr->a.data[size_t(q * N + m.prefix + j)]);
        map_tile("attention:rollout", in, m, rrow.data(), rhi, side,
                 "rollout (" + (under.empty() ? std::string("network") : under) + ")", rstale);
      } else if (rr) {
        ImGui::TextDisabled("rollout: other token count");
      } else {
        ImGui::TextDisabled("rollout\xE2\x80\xA6");
      }
    }
    ImGui::SameLine();
    draw_color_scale((prefix + "att_scale").c_str(), "p(attn)", cmap, 0, hi,
                     ImVec2(scale_w, side + ImGui::GetTextLineHeightWithSpacing()), fonts);
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
  if (!err.empty()) return text_error("Mixing map failed", err);
  if (!res) {
    ImGui::TextDisabled("computing the mixing map\xE2\x80\xA6");
    return;
  }
  const int64_t S = m.h * m.w;
  if (res->row.size() < m.prefix + S) return text_error("Mixing map", "unexpected size");
  const float* row = res->row.ptr() + m.prefix;
  float lo = 0, hi = 0;
  value_range(row, S, &lo, &hi);
  const float side =
      std::max(fs * 4, std::min(std::min(fs * 16, height - fs * 3.5f), width - fs * 6));
  map_tile(prefix + "mixing:" + path, in, m, row, hi, side,
           "|dy_q/dx_j|_F, query " + std::to_string(q), stale);
  ImGui::SameLine();
  draw_color_scale((prefix + "mix_scale").c_str(), "|J|_F", cmap, 0, hi,
                   ImVec2(fs * 5, side + ImGui::GetTextLineHeightWithSpacing()), fonts);
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
  ImGui::SameLine(0, fs);
  ImGui::TextUnformatted("Compare");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(fs * 12);
  if (ImGui::BeginCombo("##compare", compare.empty() ? "(none)" : compare.c_str())) {
    if (ImGui::Selectable("(none)", compare.empty())) compare.clear();
    for (const MixerInfo& m : mixers_)
      if (m.path != lay && ImGui::Selectable(mixer_label(m).c_str(), m.path == compare))
        compare = m.path;
    ImGui::EndCombo();
  }
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
  ImGui::Separator();
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
