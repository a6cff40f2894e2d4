// The Grad-CAM and attention pictures (views/view_pictures.h) drawn into a RecordingCanvas: what
// each one draws from small synthetic data.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "views/view_pictures.h"

namespace v = fw::views;
using Op = v::RecordingCanvas::Op;

namespace {

v::PictureImage solid(int w, int h, uint8_t r, bool smooth) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(r + i % 7);
  return v::picture_image(w, h, rgb.data(), smooth);
}

v::ColorScale scale(const std::string& id, float lo, float hi) {
  v::ColorScale s;
  s.id = id;
  s.title = "cam";
  s.lo = lo;
  s.hi = hi;
  s.colors = {v::rgb_hex(0x000000), v::rgb_hex(0x808080), v::rgb_hex(0xffffff)};
  return s;
}

std::vector<const v::RecordingCanvas::Command*> of(const v::RecordingCanvas& r, Op op) {
  std::vector<const v::RecordingCanvas::Command*> out;
  for (const auto& c : r.commands())
    if (c.op == op) out.push_back(&c);
  return out;
}

bool has_text(const v::RecordingCanvas& r, const std::string& s) {
  const auto t = r.texts();
  return std::find(t.begin(), t.end(), s) != t.end();
}

v::GradcamPicture synthetic_cam() {
  v::GradcamPicture g;
  g.title = "Grad-CAM \xC2\xB7 stages.2 \xC2\xB7 Trouser 91.0%";
  g.overlay = solid(16, 16, 10, true);
  g.input_w = g.input_h = 16;
  g.box = std::array<int, 4>{2, 3, 10, 12};
  g.raw = solid(4, 4, 50, false);
  g.raw_title = "raw 4x4";
  g.scale = scale("raw_scale", -0.5f, 2.0f);
  g.overlay_note = "overlay: max-normalised,\nbilinear to 16x16";
  g.class_name = "Trouser";
  for (int i = 0; i < 33; ++i) {
    g.deletion.push_back(1.0f - float(i) / 32);
    g.insertion.push_back(float(i) / 32);
  }
  g.deletion_auc = 0.123;
  g.insertion_auc = 0.877;
  g.pointing_hit = true;
  g.peak_x = 5;
  g.peak_y = 6;
  return g;
}

}  // namespace

TEST(ViewPictures, GradcamDrawsTheMapsTheCurvesAndTheScores) {
  const v::GradcamPicture g = synthetic_cam();
  std::vector<v::PictureItem> items;
  const v::Picture p = v::gradcam_picture(g, [&](const v::PictureItem& i) { items.push_back(i); });
  v::RecordingCanvas r;
  p.draw(r, v::Transform{{10, 20}, 1});
  // The overlay (bilinear) and the raw map (nearest, at its own resolution).
  const auto images = of(r, Op::Image);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0]->text, "16x16#" + std::to_string(g.overlay.key));
  EXPECT_EQ(images[0]->flags, 1);
  EXPECT_EQ(images[1]->text, "4x4#" + std::to_string(g.raw.key));
  EXPECT_EQ(images[1]->flags, 0);
  const v::GradcamLayout l = v::gradcam_layout(g);
  EXPECT_EQ(images[0]->points[0], (v::Vec2{10 + l.overlay_min.x, 20 + l.overlay_min.y}));
  EXPECT_EQ(images[0]->points[1], (v::Vec2{10 + l.overlay_max.x, 20 + l.overlay_max.y}));
  // Two curves of 33 points, inside the chart's area.
  const auto lines = of(r, Op::Polyline);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto* c : lines) {
    EXPECT_EQ(c->points.size(), 33u);
    for (const v::Vec2 q : c->points) {
      EXPECT_GE(q.x, 10 + l.area_min.x - 1e-3f);
      EXPECT_LE(q.x, 10 + l.area_max.x + 1e-3f);
      EXPECT_GE(q.y, 20 + l.area_min.y - 1e-3f);
      EXPECT_LE(q.y, 20 + l.area_max.y + 1e-3f);
    }
  }
  EXPECT_EQ(lines[0]->stroke.color, v::view_palette::kDeletion);
  EXPECT_EQ(lines[1]->stroke.color, v::view_palette::kInsertion);
  // Deletion falls from the top to the bottom of the area; insertion rises.
  EXPECT_LT(lines[0]->points.front().y, lines[0]->points.back().y);
  EXPECT_GT(lines[1]->points.front().y, lines[1]->points.back().y);
  // The scores, the titles and the pointing game.
  EXPECT_TRUE(has_text(r, "\xE2\x80\x94 deletion AUC 0.123"));
  EXPECT_TRUE(has_text(r, "\xE2\x80\x94 insertion AUC 0.877"));
  EXPECT_TRUE(has_text(r, "pointing game: hit (peak at 5,6)"));
  EXPECT_TRUE(has_text(r, g.title));
  EXPECT_TRUE(has_text(r, "raw 4x4"));
  EXPECT_TRUE(has_text(r, "p(Trouser)"));
  EXPECT_TRUE(has_text(r, "bilinear to 16x16"));
  // The scale's nice values inside lo..hi; the box in the ok colour.
  EXPECT_TRUE(has_text(r, "0"));
  EXPECT_TRUE(has_text(r, "2"));
  const float cell = g.side / 16;  // input pixels -> diagram units
  bool box = false;
  for (const auto* c : of(r, Op::Rect))
    if (c->stroke.color == v::view_palette::kOk) {
      box = true;
      EXPECT_NEAR(c->points[0].x, 10 + l.overlay_min.x + 2 * cell, 1e-3);
      EXPECT_NEAR(c->points[1].y, 20 + l.overlay_min.y + 12 * cell, 1e-3);
    }
  EXPECT_TRUE(box);
  // The report: both maps, the scale, the chart and its two series of 33 points.
  std::vector<std::string> ids;
  for (const auto& i : items) ids.push_back(i.list + ":" + i.id + "#" + std::to_string(i.count));
  for (const char* want : {"map:gradcam:overlay#0", "map:gradcam:raw#0", "plot:p(Trouser)#2",
                           "series:p(Trouser)/deletion#33", "series:p(Trouser)/insertion#33"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), want), ids.end()) << want;
  EXPECT_NE(std::find_if(ids.begin(), ids.end(),
                         [](const std::string& s) { return s.rfind("scale:raw_scale#", 0) == 0; }),
            ids.end());
}

TEST(ViewPictures, GradcamWithoutScoresSaysWhy) {
  v::GradcamPicture g = synthetic_cam();
  g.deletion.clear();
  g.insertion.clear();
  g.scores_note = "computing deletion and insertion\xE2\x80\xA6";
  v::RecordingCanvas r;
  v::gradcam_picture(g).draw(r, {});
  EXPECT_TRUE(of(r, Op::Polyline).empty());
  EXPECT_TRUE(has_text(r, g.scores_note));
  for (const std::string& t : r.texts()) EXPECT_EQ(t.find("AUC"), std::string::npos) << t;
}

TEST(ViewPictures, AScaledTransformScalesEverything) {
  const v::GradcamPicture g = synthetic_cam();
  const v::Picture p = v::gradcam_picture(g);
  v::RecordingCanvas a, b;
  p.draw(a, {});
  p.draw(b, {{0, 0}, 2});
  ASSERT_EQ(a.commands().size(), b.commands().size());
  for (size_t i = 0; i < a.commands().size(); ++i) {
    const auto &x = a.commands()[i], &y = b.commands()[i];
    ASSERT_EQ(x.points.size(), y.points.size());
    for (size_t k = 0; k < x.points.size(); ++k) {
      EXPECT_NEAR(y.points[k].x, 2 * x.points[k].x, 1e-3);
      EXPECT_NEAR(y.points[k].y, 2 * x.points[k].y, 1e-3);
    }
    if (x.op == Op::Text) {
      EXPECT_NEAR(y.font.size, 2 * x.font.size, 1e-4);
    }
  }
}

TEST(ViewPictures, AttentionDrawsAMapPerHeadTheMeanAndTheScale) {
  v::AttentionPicture a;
  a.title = "stages.2.blocks.0.token_mixer";
  a.subtitle = "attention \xC2\xB7 16 tokens (4x4) \xC2\xB7 query 6 (row 1, col 2)";
  a.input_w = a.input_h = 16;
  a.grid_w = a.grid_h = 4;
  a.query_cell = 6;
  const int heads = 3;
  for (int h = 0; h <= heads; ++h)
    a.tiles.push_back({h < heads ? "attention:head" + std::to_string(h) : "attention:mean",
                       h < heads ? "head " + std::to_string(h) : "mean of heads",
                       solid(16, 16, uint8_t(20 * h), true), false});
  a.scale = scale("att_scale", 0, 0.5f);
  a.scale.title = "p(attn)";
  std::vector<v::PictureItem> items;
  v::RecordingCanvas r;
  v::attention_picture(a, [&](const v::PictureItem& i) { items.push_back(i); }).draw(r, {});
  const auto images = of(r, Op::Image);
  ASSERT_EQ(images.size(), size_t(heads + 1));
  const v::AttentionLayout l = v::attention_layout(a);
  for (int h = 0; h <= heads; ++h) {
    EXPECT_EQ(images[size_t(h)]->text, "16x16#" + std::to_string(a.tiles[size_t(h)].image.key));
    EXPECT_EQ(images[size_t(h)]->points[0], l.tiles[size_t(h)].first);
  }
  for (const char* t : {"head 0", "head 1", "head 2", "mean of heads", "p(attn)", "0"})
    EXPECT_TRUE(has_text(r, t)) << t;
  int maps = 0, scales = 0;
  for (const auto& i : items) {
    maps += i.list == "map";
    scales += i.list == "scale" && i.id == "att_scale" && i.text == "p(attn) 0..0.5";
  }
  EXPECT_EQ(maps, heads + 1);
  EXPECT_EQ(scales, 1);
  // The query's cell (row 1, col 2) marked on every map: a white outline one cell wide.
  int marks = 0;
  for (const auto* c : of(r, Op::Rect))
    if (c->stroke.color == v::rgba(255, 255, 255, 240)) {
      ++marks;
      EXPECT_NEAR(c->points[1].x - c->points[0].x, a.tile / 4, 1e-3);
    }
  EXPECT_EQ(marks, heads + 1);
  // Keys follow the pixels.
  EXPECT_NE(a.tiles[0].image.key, a.tiles[1].image.key);
  EXPECT_EQ(a.tiles[0].image.key, solid(16, 16, 0, true).key);
}

TEST(ViewPictures, StackedPicturesDrawEachBelowTheOther) {
  v::AttentionPicture a;
  a.tiles.push_back({"t", "t", solid(4, 4, 0, true), false});
  a.scale = scale("s", 0, 1);
  const v::Picture one = v::attention_picture(a);
  const v::Picture both = v::stack_pictures({one, one}, 7);
  EXPECT_NEAR(both.size.y, 2 * one.size.y + 7, 1e-4);
  v::RecordingCanvas r, first;
  both.draw(r, {{1, 2}, 1});
  one.draw(first, {{1, 2}, 1});
  ASSERT_EQ(r.commands().size(), first.commands().size() * 2);
  v::RecordingCanvas joined;
  one.draw(joined, {{1, 2}, 1});
  one.draw(joined, {{1, 2 + one.size.y + 7}, 1});
  EXPECT_EQ(r.diff(joined), "");
}
