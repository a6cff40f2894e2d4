// The attention and Grad-CAM views driven like a user drives them (tests/gui/ui_driver.h), on the
// bundled sample project (assets/sample.formwork: caformer_mini64, 8 stored samples with boxes):
// requests run on the views' InferenceService while frames keep coming; what the views drew is
// read back from the frame report (app/gui/ui_probe.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "core/analysis.h"
#include "core/datasets.h"
#include "core/graph_json.h"
#include "core/init.h"
#include "core/image_io.h"
#include "core/npy.h"
#include "core/project_store.h"
#include "core/templates.h"
#include "tests/gui/ui_driver.h"
#include "views/canvas.h"
#include "views/picture_export.h"

namespace fs = std::filesystem;
using fw::gui::testing::UiDriver;
namespace probe = fw::gui::probe;

namespace {

const std::string kSample = std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork";

std::string tmp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("formwork_views_ui_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Frames until the view in front has every result it asked for.
bool settle(UiDriver& ui, double seconds = 120) {
  return ui.frames_until([&] { return !ui.view->settling(); }, seconds) &&
         (ui.frame(2), true);
}

struct Views {
  UiDriver ui;
  explicit Views(const std::string& view) {
    EXPECT_TRUE(fs::exists(kSample)) << kSample;
    EXPECT_TRUE(fw::gui::open_spec(ui.app, kSample)) << ui.app.error;
    ui.view->show_view(view);
    ui.frame(2);
  }
  std::string fact(const std::string& name) { return probe::fact_or(name); }
};

}  // namespace

TEST(ModelViews, BothViewsAreBuiltAndShowTheSampleProject) {
  Views v("gradcam");
  ASSERT_EQ(v.ui.view->active_view(), "gradcam");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.ui.view->view_model().problem(), "");
  EXPECT_EQ(v.ui.view->view_model().samples().size(), 8u);
  EXPECT_EQ(v.fact("view"), "gradcam");
  EXPECT_EQ(v.fact("input"), "sample:0");
  EXPECT_EQ(v.fact("layer"), "stages.2");  // the last stage
  EXPECT_EQ(v.fact("cam_size"), "4x4");
  EXPECT_NE(probe::find("map", "gradcam:overlay"), nullptr);
  EXPECT_NE(probe::find("map", "gradcam:raw"), nullptr);
  for (const char* s : {"stem", "stages.0", "stages.1", "stages.2"})
    EXPECT_NE(probe::find("map", std::string("strip:") + s), nullptr) << s;
  EXPECT_EQ(probe::items("prediction").size(), 5u);

  v.ui.view->show_view("attention");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("view"), "attention");
  EXPECT_EQ(v.fact("layer"), "stages.2.blocks.0.token_mixer");
  EXPECT_EQ(v.fact("tokens"), "16");
  const int heads = std::stoi(v.fact("heads"));
  EXPECT_GE(heads, 1);
  for (int h = 0; h < heads; ++h) {
    EXPECT_NE(probe::find("map", "attention:head" + std::to_string(h)), nullptr) << h;
    EXPECT_NE(probe::find("map", "attention:matrix" + std::to_string(h)), nullptr) << h;
  }
  EXPECT_NE(probe::find("map", "attention:mean"), nullptr);
}

TEST(ModelViews, PickingASampleChangesThePrediction) {
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  auto& in = v.ui.view->input_panel();
  auto& vm = v.ui.view->view_model();
  auto before = in.prediction(vm);
  ASSERT_TRUE(before);
  const std::string top1_before = v.fact("top1");
  // Sample 1 (a different class in the sample project: see its stored labels).
  const auto& samples = vm.samples();
  int other = -1;
  for (size_t i = 1; i < samples.size(); ++i)
    if (samples[i].label != samples[0].label) {
      other = int(i);
      break;
    }
  ASSERT_GE(other, 1);
  v.ui.click(v.ui.at("input:sample:" + std::to_string(other)));
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("input"), "sample:" + std::to_string(other));
  auto after = in.prediction(vm);
  ASSERT_TRUE(after);
  EXPECT_NE(before->probs, after->probs);
  EXPECT_EQ(in.input()->label, samples[size_t(other)].label);
  // The sample project's classifier gets these right (85% test top-1; the samples were checked).
  EXPECT_NE(v.fact("top1"), top1_before);
  EXPECT_EQ(v.fact("class"), v.fact("top1"));  // class = top-1 follows the prediction
  const fw::gui::probe::Drawn* sel = probe::find("sample", std::to_string(other));
  ASSERT_NE(sel, nullptr);
  EXPECT_TRUE(sel->has("selected"));
}

TEST(ModelViews, HoveringSetsTheQueryAndAClickPinsIt) {
  Views v("attention");
  ASSERT_TRUE(settle(v.ui));
  const probe::Drawn* img = probe::find("map", "input");
  ASSERT_NE(img, nullptr);
  const ImVec2 a = img->min, b = img->max;
  const float cw = (b.x - a.x) / 4, ch = (b.y - a.y) / 4;  // the 4x4 grid of stages.2
  // Top-left cell: token 0; bottom-right: 15; row 1, col 2: 6.
  v.ui.mouse(ImVec2(a.x + cw * 0.5f, a.y + ch * 0.5f));
  v.ui.frame();
  EXPECT_EQ(v.fact("query"), "0");
  v.ui.mouse(ImVec2(a.x + cw * 2.5f, a.y + ch * 1.5f));
  v.ui.frame();
  EXPECT_EQ(v.fact("query"), "6");
  EXPECT_EQ(v.ui.view->attention().query_token(), 6);
  // Hovering a head's map sets it too.
  const probe::Drawn* head = probe::find("map", "attention:head0");
  ASSERT_NE(head, nullptr);
  v.ui.mouse(ImVec2(head->max.x - 2, head->max.y - 2));
  v.ui.frame();
  EXPECT_EQ(v.fact("query"), "15");
  // A click on the image pins the query; moving away keeps it.
  v.ui.click(ImVec2(a.x + cw * 3.5f, a.y + ch * 0.5f));
  v.ui.mouse(ImVec2(5, 5));
  v.ui.frame(2);
  EXPECT_EQ(v.fact("query"), "3");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "ready");
}

TEST(ModelViews, BadInputsShowTheReasonInTheViewWithoutCrashing) {
  const std::string dir = tmp_dir("bad");
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  auto& in = v.ui.view->input_panel();
  // A file that does not decode.
  const std::string bad = dir + "/broken.png";
  std::ofstream(bad) << "this is not a PNG";
  in.choose_file(bad);
  ASSERT_TRUE(settle(v.ui));
  EXPECT_NE(in.error().find("cannot decode"), std::string::npos) << in.error();
  const probe::Drawn* e = probe::find("input_error", "input");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->text.find("broken.png"), std::string::npos) << e->text;
  EXPECT_EQ(v.fact("input"), "sample:0");  // the last good input stays
  // A tensor with the wrong channel count.
  const std::string npy = dir + "/rgb.npy";
  fw::Tensor x({1, 3, 64, 64});
  fw::write_npy(npy, x);
  in.choose_file(npy);
  ASSERT_TRUE(settle(v.ui));
  EXPECT_NE(in.error().find("has 3 channels; the network expects 1"), std::string::npos)
      << in.error();
  // A missing file.
  in.choose_file(dir + "/missing.png");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_NE(in.error().find("missing.png"), std::string::npos) << in.error();
  // A layer without a grid: the request fails and the view says why.
  v.ui.view->gradcam().layer = "head";
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "failed");
  EXPECT_NE(v.fact("error").find("no spatial grid"), std::string::npos) << v.fact("error");
  // A node that is not a token mixer in the attention view.
  v.ui.view->attention().layer = "stages.1";
  v.ui.view->show_view("attention");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "failed");
  // A good input again: everything recovers.
  in.choose_sample(2);
  v.ui.view->gradcam().layer = "";
  v.ui.view->show_view("gradcam");
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(in.error(), "");
  EXPECT_EQ(v.fact("state"), "ready");
  EXPECT_EQ(v.ui.app.error, "");  // no internal error reached the error dialog
  fs::remove_all(dir);
}

TEST(ModelViews, AnEditWhileARequestRunsShowsRecomputingThenTheNewResult) {
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  ASSERT_EQ(v.fact("state"), "ready");
  auto& vm = v.ui.view->view_model();
  const int64_t rev = vm.graph_revision();
  // Ask for something new (another class), then edit the graph at once: what was running is
  // abandoned, the old maps stay on screen marked stale, and the new model's results arrive.
  v.ui.view->gradcam().cls = 3;
  const int64_t abandoned = vm.service().abandoned();
  // Catch the worker busy with it (the deletion/insertion scores take 66 forward passes).
  const bool caught = v.ui.frames_until([&] { return vm.service().activity().busy; }, 10);
  const fw::NodeId stem = v.ui.app.doc.graph().find_path("stem");
  ASSERT_NE(stem, fw::kNoNode);
  // Still busy at the edit (on a loaded machine the work may have finished in between: then
  // nothing is left to abandon).
  const bool busy_at_edit = caught && vm.service().activity().busy;
  ASSERT_TRUE(v.ui.app.doc.move({stem}, 40, 0));  // an edit that keeps the weights valid
  v.ui.frame();
  EXPECT_GT(vm.graph_revision(), rev);
  EXPECT_EQ(v.fact("state"), "recomputing");
  // The status bar says what the service is doing.
  const probe::Drawn* act = probe::find("activity", "service");
  ASSERT_NE(act, nullptr);
  EXPECT_NE(act->text.find("waiting"), std::string::npos) << act->text;
  if (busy_at_edit) {
    vm.service().wait_idle();
    EXPECT_GE(vm.service().abandoned(), abandoned + 1);  // what ran on the old graph was dropped
  }
  const probe::Drawn* overlay = probe::find("map", "gradcam:overlay");
  ASSERT_NE(overlay, nullptr);
  EXPECT_TRUE(overlay->has("stale"));
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "ready");
  EXPECT_EQ(v.fact("class"), "3");
  overlay = probe::find("map", "gradcam:overlay");
  ASSERT_NE(overlay, nullptr);
  EXPECT_FALSE(overlay->has("stale"));
}

TEST(ModelViews, AnEditThatBreaksTheWeightsIsExplainedInTheView) {
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  const fw::NodeId head = v.ui.app.doc.graph().find_path("head");
  ASSERT_NE(head, fw::kNoNode);
  ASSERT_TRUE(v.ui.app.doc.rename(head, "classifier"));
  v.ui.frame(2);
  EXPECT_EQ(v.fact("state"), "no model");
  EXPECT_NE(v.ui.view->view_model().problem().find("edited since training"), std::string::npos)
      << v.ui.view->view_model().problem();
  // Undo: the trained weights fit again.
  ASSERT_TRUE(v.ui.app.doc.undo());
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "ready");
}

TEST(ModelViews, ADroppedImageBecomesTheInputAndReopeningReloadsTheWeights) {
  const std::string dir = tmp_dir("drop");
  Views v("editor");
  // A 28x28 gray image: the project's pipeline fits it as it fits Fashion-MNIST items.
  fw::Image8 img(28, 28, 1);
  for (int y = 6; y < 22; ++y)
    for (int x = 10; x < 18; ++x) img.pixel(x, y)[0] = 220;
  const std::string png = dir + "/drop.png";
  fw::write_png(png, img);
  v.ui.view->drop_files({png});
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.ui.view->active_view(), "gradcam");
  ASSERT_NE(v.ui.view->input_panel().input(), nullptr);
  EXPECT_EQ(v.fact("input").rfind("file:" + fs::path(png).string() + "@", 0), 0u)
      << v.fact("input");
  EXPECT_EQ(v.fact("state"), "ready");
  EXPECT_EQ(v.ui.view->input_panel().input()->shown.w, 64);  // the network's input size
  // Reopening the project reads its weights again: a new weights revision, results recomputed.
  const int64_t wrev = v.ui.view->view_model().weights_revision();
  ASSERT_TRUE(fw::gui::open_spec(v.ui.app, kSample));
  v.ui.frame();
  EXPECT_GT(v.ui.view->view_model().weights_revision(), wrev);
  ASSERT_TRUE(settle(v.ui));
  EXPECT_EQ(v.fact("state"), "ready");
  fs::remove_all(dir);
}

TEST(ModelViews, ATrainingRunThatSavesWeightsIsPickedUp) {
  const std::string dir = tmp_dir("train");
  // DIR/data/{train,test}/{dark,bright}/N.png: 32x32 gray squares.
  for (const char* split : {"train", "test"})
    for (int k = 0; k < 2; ++k) {
      const fs::path d = fs::path(dir) / "data" / split / (k ? "bright" : "dark");
      fs::create_directories(d);
      for (int i = 0; i < 8; ++i) {
        fw::Image8 img(32, 32, 1);
        for (int y = 8; y < 24; ++y)
          for (int x = 8; x < 24; ++x) img.pixel(x, y)[0] = uint8_t((k ? 200 : 60) + i);
        fw::write_png((d / (std::to_string(i) + ".png")).string(), img);
      }
    }
  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, "formwork_fm32"));
  const std::string project = dir + "/fm.formwork";
  ASSERT_TRUE(fw::gui::save_as(ui.app, project)) << ui.app.error;
  ui.view->show_view("gradcam");
  ui.frame(2);
  // No weights yet: the view says so.
  EXPECT_EQ(probe::fact_or("state"), "no model");
  EXPECT_NE(ui.view->view_model().problem().find("no trained weights"), std::string::npos)
      << ui.view->view_model().problem();
  const int64_t wrev = ui.view->view_model().weights_revision();
  fw::gui::TrainingForm& f = ui.view->training_panel().form();
  ui.view->show_view("training");
  ui.frame(2);
  f.dataset = 2;
  std::snprintf(f.folder, sizeof f.folder, "%s", (dir + "/data").c_str());
  f.s.batch = 8;
  f.s.epochs = 1;
  ASSERT_EQ(ui.view->training_panel().start(ui.app), "");
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->training().active(); }, 300));
  ui.frame(2);
  EXPECT_GT(ui.view->view_model().weights_revision(), wrev);
  EXPECT_EQ(ui.view->view_model().problem(), "");
  ui.view->input_panel().choose_file(dir + "/data/test/bright/0.png");
  ui.view->show_view("gradcam");
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("state"), "ready");
  fs::remove_all(dir);
}

TEST(ModelViews, ADatasetItemLoadsInTheBackground) {
  if (!fs::exists(fw::default_fashion_mnist_dir()))
    GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)";
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  auto& in = v.ui.view->input_panel();
  ASSERT_EQ(in.choose("dataset:fashion-mnist-placed:test:11"), "");
  v.ui.frame();
  ASSERT_TRUE(settle(v.ui, 300));
  ASSERT_NE(in.input(), nullptr) << in.error();
  EXPECT_EQ(in.input()->id, "dataset:fashion-mnist-placed:test:11");
  EXPECT_TRUE(in.input()->box.has_value());
  EXPECT_GE(in.input()->label, 0);
  EXPECT_EQ(v.fact("state"), "ready");
  // Out of range: said in the panel.
  in.choose_dataset("fashion-mnist", "test", 20000);
  ASSERT_TRUE(settle(v.ui, 300));
  EXPECT_NE(in.error().find("out of range"), std::string::npos) << in.error();
}

TEST(ModelViews, AClassTokenIsTheDefaultQueryOfAViT) {
  const std::string dir = tmp_dir("vit");
  // A ViT project (class token in front of 4x4 patches) with timm-init weights, as `formwork new
  // --template vit_tiny_patch16_224 --input-size 3,64,64 --num-classes 10 --init-weights` makes it.
  fw::TemplateOptions o;
  o.input = {3, 64, 64};
  o.num_classes = 10;
  const fw::Graph g = fw::build_template("vit_tiny_patch16_224", o);
  fw::ProjectData p;
  p.graph_json = fw::graph_to_json(g);
  p.graph_format = fw::kGraphFormatVersion;
  p.weights = fw::init_weights(fw::analyze(g), 0);
  const std::string project = dir + "/vit.formwork";
  fw::save_project(project, p);
  fw::Image8 img(64, 64, 3);
  for (int y = 16; y < 48; ++y)
    for (int x = 8; x < 40; ++x) img.pixel(x, y)[1] = 200;
  const std::string png = dir + "/green.png";
  fw::write_png(png, img);

  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, project)) << ui.app.error;
  ui.view->show_view("attention");
  ui.view->attention().layer = "blocks.5.attn";
  ui.view->input_panel().choose_file(png);
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("state"), "ready") << probe::fact_or("error");
  EXPECT_EQ(probe::fact_or("layer"), "blocks.5.attn");
  EXPECT_EQ(probe::fact_or("query"), "0");  // the class token
  EXPECT_EQ(ui.view->attention().query_token(), 0);
  for (const char* m : {"attention:head0", "attention:mean", "attention:rollout"})
    EXPECT_NE(probe::find("map", m), nullptr) << m;
  // Hovering does not move a class-token query; unticking it makes the patch under the mouse
  // the query (token 1 + row * 4 + col).
  const probe::Drawn* in = probe::find("map", "input");
  ASSERT_NE(in, nullptr);
  const ImVec2 a = in->min, b = in->max;
  const float cw = (b.x - a.x) / 4, ch = (b.y - a.y) / 4;
  ui.mouse(ImVec2(a.x + cw * 2.5f, a.y + ch * 1.5f));
  ui.frame();
  EXPECT_EQ(probe::fact_or("query"), "0");
  ui.view->attention().class_token_query = false;
  ui.frame();
  EXPECT_EQ(probe::fact_or("query"), "7");
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("state"), "ready") << probe::fact_or("error");
  fs::remove_all(dir);
}

// The Grad-CAM view draws its maps and scores through the picture that "Export picture…" writes:
// the screen's drawing teed into a recording equals the picture drawn at the same transform.
TEST(ModelViews, TheGradcamScreenIsItsExportedPicture) {
  Views v("gradcam");
  ASSERT_TRUE(settle(v.ui));
  ASSERT_EQ(v.fact("state"), "ready");
  fw::views::RecordingCanvas screen;
  auto& panel = v.ui.view->gradcam();
  panel.set_tee(&screen);
  v.ui.frame();
  panel.set_tee(nullptr);
  fw::views::RecordingCanvas exported;
  const fw::views::Picture pic = panel.picture();
  pic.draw(exported, panel.picture_transform());
  ASSERT_FALSE(screen.commands().empty());
  EXPECT_EQ(screen.diff(exported), "");
  const auto texts = exported.texts();
  auto has = [&](const std::string& prefix) {
    return std::any_of(texts.begin(), texts.end(),
                       [&](const std::string& t) { return t.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("\xE2\x80\x94 deletion AUC 0."));
  EXPECT_TRUE(has("p(" + v.ui.view->view_model().class_name(std::stoll(v.fact("class"))) + ")"));
  // Export picture…: an SVG with the class name and the AUC, a PNG at twice the size, and an
  // unknown extension refused with no file left.
  if (!fw::views::picture_export_available()) GTEST_SKIP() << "this build has no Qt 6";
  const std::string dir = tmp_dir("export");
  v.ui.click(v.ui.at("gradcam:export"));
  v.ui.frame(2);
  EXPECT_EQ(probe::fact_or("dialog"), "export_picture");
  EXPECT_NE(v.ui.view->export_path().find("gradcam.stages.2.svg"), std::string::npos)
      << v.ui.view->export_path();
  const std::string svg = dir + "/cam.svg";
  EXPECT_EQ(v.ui.view->export_picture_to(svg), "");
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find(v.ui.view->view_model().class_name(std::stoll(v.fact("class")))),
            std::string::npos);
  EXPECT_NE(text.find("deletion AUC"), std::string::npos);
  const std::string png = dir + "/cam.png";
  EXPECT_EQ(v.ui.view->export_picture_to(png), "");
  const fw::Image8 img = fw::read_image(png);
  EXPECT_EQ(img.width, int(std::ceil(pic.size.x * 2)));
  EXPECT_NEAR(img.height, pic.size.y * 2, 1.0);
  const std::string bad = v.ui.view->export_picture_to(dir + "/cam.txt");
  EXPECT_NE(bad.find("must end in .svg, .pdf or .png"), std::string::npos) << bad;
  EXPECT_FALSE(fs::exists(dir + "/cam.txt"));
  fs::remove_all(dir);
}

// The attention view draws its maps, query cell and colour scale through the picture that
// "Export picture…" writes: the screen's drawing teed into a recording equals the picture drawn at
// the same transform (the N x N matrices below it stay ImGui and are no part of it).
TEST(ModelViews, TheAttentionScreenIsItsExportedPicture) {
  Views v("attention");
  ASSERT_TRUE(settle(v.ui));
  ASSERT_EQ(v.fact("state"), "ready");
  const int heads = std::stoi(v.fact("heads"));
  fw::views::RecordingCanvas screen;
  auto& panel = v.ui.view->attention();
  panel.set_tee(&screen);
  v.ui.frame();
  panel.set_tee(nullptr);
  ASSERT_EQ(panel.screen_pictures().size(), 1u);
  fw::views::RecordingCanvas exported;
  const fw::views::Picture pic = panel.picture();
  pic.draw(exported, panel.picture_transform());
  ASSERT_FALSE(screen.commands().empty());
  EXPECT_EQ(screen.diff(exported), "");
  // A map per head, their mean and the rollout; their captions, the mixer and the scale.
  int images = 0;
  for (const auto& c : exported.commands()) images += c.op == fw::views::RecordingCanvas::Op::Image;
  EXPECT_EQ(images, heads + 2);
  const auto texts = exported.texts();
  auto has = [&](const std::string& t) {
    return std::find(texts.begin(), texts.end(), t) != texts.end();
  };
  for (const std::string t :
       {"stages.2.blocks.0.token_mixer", "head 0", "mean of heads", "rollout (network)", "p(attn)"})
    EXPECT_TRUE(has(t)) << t;
  // The probe's maps are where the picture drew them (the hover picks over these rectangles).
  const probe::Drawn* head0 = probe::find("map", "attention:head0");
  ASSERT_NE(head0, nullptr);
  for (const auto& c : exported.commands())
    if (c.op == fw::views::RecordingCanvas::Op::Image) {
      EXPECT_NEAR(c.points[0].x, head0->min.x, 1e-3);
      EXPECT_NEAR(c.points[0].y, head0->min.y, 1e-3);
      EXPECT_NEAR(c.points[1].x, head0->max.x, 1e-3);
      EXPECT_NEAR(c.points[1].y, head0->max.y, 1e-3);
      break;
    }
  // Export picture…: the modal with the mixer's name, an SVG with every map, a PNG at twice the
  // size.
  if (!fw::views::picture_export_available()) GTEST_SKIP() << "this build has no Qt 6";
  const std::string dir = tmp_dir("attention_export");
  v.ui.click(v.ui.at("attention:export"));
  v.ui.frame(2);
  EXPECT_EQ(probe::fact_or("dialog"), "export_picture");
  EXPECT_NE(v.ui.view->export_path().find("attention.stages.2.blocks.0.token_mixer.svg"),
            std::string::npos)
      << v.ui.view->export_path();
  const std::string svg = dir + "/attention.svg";
  EXPECT_EQ(v.ui.view->export_picture_to(svg), "");
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  for (const char* t : {"stages.2.blocks.0.token_mixer", "mean of heads", "p(attn)"})
    EXPECT_NE(text.find(t), std::string::npos) << t;
  for (const char* g :
       {"<g id=\"attention:head0\"", "<g id=\"attention:mean\"", "<g id=\"attention:rollout\""})
    EXPECT_NE(text.find(g), std::string::npos) << g;
  size_t svg_images = 0;
  for (size_t at = text.find("<image"); at != std::string::npos; at = text.find("<image", at + 1))
    ++svg_images;
  EXPECT_EQ(svg_images, size_t(heads + 2));
  const std::string png = dir + "/attention.png";
  EXPECT_EQ(v.ui.view->export_picture_to(png), "");
  const fw::Image8 img = fw::read_image(png);
  EXPECT_EQ(img.width, int(std::ceil(pic.size.x * 2)));
  EXPECT_NEAR(img.height, pic.size.y * 2, 1.0);
  fs::remove_all(dir);
}

// With a mixer compared, each mixer's picture is drawn on screen where it is shown, and the export
// holds both, the compared one (here a sep-conv's effective mixing map) below the first.
TEST(ModelViews, TheAttentionExportHoldsTheComparedMixerBelow) {
  Views v("attention");
  auto& panel = v.ui.view->attention();
  panel.compare = "stages.1.blocks.0.token_mixer";
  ASSERT_TRUE(settle(v.ui));
  ASSERT_EQ(v.fact("state"), "ready");
  fw::views::RecordingCanvas screen;
  panel.set_tee(&screen);
  v.ui.frame();
  panel.set_tee(nullptr);
  const auto parts = panel.screen_pictures();
  ASSERT_EQ(parts.size(), 2u);
  fw::views::RecordingCanvas each;
  for (const auto& [p, at] : parts) p.draw(each, at);
  EXPECT_EQ(screen.diff(each), "");
  EXPECT_GT(parts[1].second.origin.y, parts[0].second.origin.y + parts[0].first.size.y);
  const fw::views::Picture pic = panel.picture();
  EXPECT_GT(pic.size.y, parts[0].first.size.y + parts[1].first.size.y);
  fw::views::RecordingCanvas exported;
  pic.draw(exported, {});
  const auto texts = exported.texts();
  for (const std::string t :
       {"stages.2.blocks.0.token_mixer", "stages.1.blocks.0.token_mixer", "|J|_F", "p(attn)"})
    EXPECT_NE(std::find(texts.begin(), texts.end(), t), texts.end()) << t;
  EXPECT_NE(probe::find("map", "compare:mixing:stages.1.blocks.0.token_mixer"), nullptr);
}
