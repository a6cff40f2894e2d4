// views/picture_export.h: a picture drawing every Canvas primitive, written as SVG, PDF and PNG
// and read back (the PNG's pixels, the SVG's and PDF's text); failures leave no file and keep an
// old one. A build without Qt 6 checks that the functions say so instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/image_io.h"
#include "store_test_util.h"
#include "views/picture_export.h"
#include "views/text_metrics.h"
#if FORMWORK_WITH_QT
#include "views/qt/qt_text.h"
#endif

namespace {

using fw::test::ScratchDir;
using namespace fw::views;

constexpr Color kBlack = rgb_hex(0x000000), kRed = rgb_hex(0xFF0000);
const Font kText{FontFace::Sans, 13};

// 300 x 160 units. Regions (units): a diagonal line alone in [5,65]^2; polylines, a dashed
// Bézier; a rounded rectangle, a circle, a triangle; three aligned texts on x = 150; a red fill
// clipped by two nested clips to [230,260] x [30,60]; optionally a 2x2 image at [10,120]-[40,150].
Picture test_picture(bool with_image, Color background = rgb_hex(0xFFFFFF)) {
  static const uint8_t checker[16] = {0,   0,   0,   255, 255, 255, 255, 255,
                                      255, 255, 255, 255, 0,   0,   0,   255};
  Picture p;
  p.size = {300, 160};
  p.background = background;
  p.draw = [with_image](Canvas& c, const Transform& t) {
    {
      Group g(c, "lines");
      c.line(t({10, 10}), t({60, 60}), {kBlack, t(1.5f)});
      c.polyline({t({70, 10}), t({90, 30}), t({110, 10})}, {rgb_hex(0x2040A0), t(2)}, false);
      c.polyline({t({70, 40}), t({90, 60}), t({110, 40})}, {rgb_hex(0x2040A0), t(1)}, true);
      c.bezier(t({120, 10}), t({140, 60}), t({170, -10}), t({190, 40}),
               {rgb_hex(0x008000), t(1.5f), true});
    }
    {
      Group g(c, "shapes");
      c.rect(t({10, 70}), t({60, 110}), rgb_hex(0x4060C0), {kBlack, t(1), true}, t(8),
             kCornerTL | kCornerBR);
      c.circle(t({85, 90}), t(15), rgb_hex(0x20A020), {kBlack, t(1)});
      c.polygon({t({110, 110}), t({130, 70}), t({150, 110})}, rgb_hex(0xC02020), {});
    }
    {
      Group g(c, "texts");
      const Font f{kText.face, t(kText.size)};
      c.text(t({150, 70}), "Left", f, kBlack, Align::Left);
      c.text(t({150, 90}), "Centre", f, kBlack, Align::Center);
      c.text(t({150, 110}), "Right", f, kBlack, Align::Right);
      c.text(t({160, 130}), "a<b & c \xC3\x97 2", {FontFace::MonoBold, t(11)}, kBlack);
      c.text(t({240, 140}),
             "bad\xFF\x01"
             "byte",
             {FontFace::SerifBold, t(9)}, kBlack);
    }
    {
      Clip outer(c, t({200, 10}), t({260, 60}));
      Clip inner(c, t({230, 30}), t({290, 90}));
      c.rect(t({190, 0}), t({300, 100}), kRed, {});
    }
    if (with_image) c.image(t({10, 120}), t({40, 150}), {2, 2, checker, 0, false});
  };
  return p;
}

#if FORMWORK_WITH_QT

std::string text_of(const std::string& path) {
  const std::vector<uint8_t> b = fw::read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

// The PNG at 600 px (2 pixels per unit), as RGBA.
fw::Image8 png_of(const ScratchDir& dir, const Picture& p, const std::string& name,
                  int width = 600) {
  const std::string path = dir.file(name);
  export_picture(p, PictureFormat::Png, path, width);
  return fw::read_image(path, 4);
}

int gray(const fw::Image8& img, int x, int y) {
  const uint8_t* px = img.pixel(x, y);
  return (px[0] + px[1] + px[2]) / 3;
}

// Columns [x0, x1) and rows [y0, y1) (pixels) holding black ink (text): {min x, max x}.
std::pair<int, int> ink_columns(const fw::Image8& img, int x0, int x1, int y0, int y1) {
  int lo = x1, hi = -1;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const uint8_t* px = img.pixel(x, y);
      if (std::max({px[0], px[1], px[2]}) < 110) lo = std::min(lo, x), hi = std::max(hi, x);
    }
  return {lo, hi};
}

TEST(PictureExport, Available) { EXPECT_TRUE(picture_export_available()); }

TEST(PictureExport, SvgKeepsTextGroupsAndClips) {
  ScratchDir dir;
  const std::string path = dir.file("every primitive.svg");
  export_picture(test_picture(true), PictureFormat::Svg, path);
  const std::string svg = text_of(path);
  auto has = [&](const std::string& s) { return svg.find(s) != std::string::npos; };
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_TRUE(has("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_TRUE(has(" width=\"300\" height=\"160\" viewBox=\"0 0 300 160\""));
  EXPECT_TRUE(has("<title>every primitive</title>"));
  // Text stays text: escaped, invalid UTF-8 replaced, aligned by text-anchor at the anchor.
  for (const std::string t : {"Left", "Centre", "Right", "a&lt;b &amp; c \xC3\x97 2",
                              "bad\xEF\xBF\xBD\xEF\xBF\xBD"
                              "byte"}) {
    const size_t at = svg.find(">" + t + "</text>");
    ASSERT_NE(at, std::string::npos) << t << " is not a <text> element";
    EXPECT_EQ(svg.rfind("<", at), svg.rfind("<text ", at)) << t;
  }
  EXPECT_TRUE(has("<text x=\"150\" y=\""));
  EXPECT_TRUE(has("text-anchor=\"middle\" fill=\"#000000\" xml:space=\"preserve\">Centre<"));
  EXPECT_TRUE(has("text-anchor=\"end\" fill=\"#000000\" xml:space=\"preserve\">Right<"));
  EXPECT_TRUE(has("font-family=\"DejaVu Sans Mono, monospace\""));
  EXPECT_TRUE(has("font-family=\"DejaVu Serif, serif\" font-size=\""));
  EXPECT_TRUE(has("font-weight=\"bold\""));
  // Groups and nested clips are kept; the red fill is inside both clips.
  EXPECT_TRUE(has("<g id=\"lines\">"));
  EXPECT_TRUE(has("<g id=\"shapes\">"));
  EXPECT_TRUE(has("<g id=\"texts\">"));
  const size_t c0 =
      svg.find("<clipPath id=\"clip0\"><rect x=\"200\" y=\"10\" width=\"60\" height=\"50\"/>");
  const size_t c1 =
      svg.find("<clipPath id=\"clip1\"><rect x=\"230\" y=\"30\" width=\"60\" height=\"60\"/>");
  const size_t fill =
      svg.find("<rect x=\"190\" y=\"0\" width=\"110\" height=\"100\" fill=\"#ff0000\"");
  ASSERT_NE(c0, std::string::npos);
  ASSERT_NE(c1, std::string::npos);
  ASSERT_NE(fill, std::string::npos);
  EXPECT_LT(c0, c1);
  EXPECT_LT(c1, fill);
  EXPECT_NE(svg.find("<g clip-path=\"url(#clip1)\">", c1), std::string::npos);
  // Every primitive became its element.
  for (const char* e :
       {"<line ", "<polyline ", "<polygon ", "<path d=\"M120,10 C140,60 170,-10 190,40\"",
        "<circle cx=\"85\" cy=\"90\" r=\"15\"", "stroke-dasharray=\"4.5 3\"",
        "style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,iVBORw0KGgo"})
    EXPECT_TRUE(has(e)) << e;
  // The rounded rectangle rounds TL and BR only.
  EXPECT_TRUE(has("<path d=\"M18,70 H60 V102 A8,8 0 0 1 52,110 H10 V78 A8,8 0 0 1 18,70 Z\""));
  size_t opens = 0, closes = 0;
  for (size_t i = svg.find("<g"); i != std::string::npos; i = svg.find("<g", i + 1)) ++opens;
  for (size_t i = svg.find("</g>"); i != std::string::npos; i = svg.find("</g>", i + 1)) ++closes;
  EXPECT_EQ(opens, closes);
  EXPECT_EQ(opens, 5u);
}

TEST(PictureExport, PdfIsOneVectorPageOfThePictureSize) {
  ScratchDir dir;
  const std::string vec = dir.file("vector.pdf"), img = dir.file("image.pdf");
  export_picture(test_picture(false), PictureFormat::Pdf, vec);
  export_picture(test_picture(true), PictureFormat::Pdf, img);
  const std::string v = text_of(vec), i = text_of(img);
  EXPECT_EQ(v.substr(0, 5), "%PDF-");
  const size_t box = v.find("/MediaBox [");
  ASSERT_NE(box, std::string::npos);
  EXPECT_EQ(v.find("/MediaBox [", box + 1), std::string::npos) << "one page";
  double x0 = -1, y0 = -1, x1 = -1, y1 = -1;
  ASSERT_EQ(std::sscanf(v.c_str() + box, "/MediaBox [%lf %lf %lf %lf]", &x0, &y0, &x1, &y1), 4);
  EXPECT_EQ(x0, 0);
  EXPECT_EQ(y0, 0);
  EXPECT_EQ(x1, 300);
  EXPECT_EQ(y1, 160);
  EXPECT_EQ(v.find("/Subtype /Image"), std::string::npos)
      << "a raster image in a vector-only picture";
  EXPECT_NE(v.find("/FontFile2"), std::string::npos) << "the DejaVu fonts are embedded";
  EXPECT_NE(v.find("DejaVu"), std::string::npos);
  EXPECT_NE(i.find("/Subtype /Image"), std::string::npos) << "the picture's image is an image";
}

TEST(PictureExport, PngHasTheAskedWidthAndProportionalHeight) {
  ScratchDir dir;
  const fw::Image8 a = png_of(dir, test_picture(false), "a.png", 600);
  EXPECT_EQ(a.width, 600);
  EXPECT_EQ(a.height, 320);
  const fw::Image8 b = png_of(dir, test_picture(false), "b.png", 451);
  EXPECT_EQ(b.width, 451);
  EXPECT_EQ(b.height, 241);                                           // 160 * 451 / 300 = 240.5
  const fw::Image8 c = png_of(dir, test_picture(false), "c.png", 0);  // 1 pixel per unit
  EXPECT_EQ(c.width, 300);
  EXPECT_EQ(c.height, 160);
}

TEST(PictureExport, PngIsAntialiasedAndDrawsEveryPrimitive) {
  ScratchDir dir;
  const fw::Image8 img = png_of(dir, test_picture(true), "p.png");
  // The diagonal line alone in [10,130]^2 px: partial coverage gives greys between.
  int partial = 0, dark = 0;
  for (int y = 10; y < 130; ++y)
    for (int x = 10; x < 130; ++x) {
      const int g = gray(img, x, y);
      partial += g > 40 && g < 215;
      dark += g <= 40;
    }
  EXPECT_GT(partial, 60) << "no anti-aliasing on a 45-degree line";
  EXPECT_GT(dark, 60);
  EXPECT_EQ(gray(img, 20, 120), 255);  // off the line: background
  // Fills: the rounded rectangle (its square corner TR and round corner TL), circle, triangle.
  const uint8_t* inside = img.pixel(70, 180);
  EXPECT_EQ(inside[0], 0x40);
  EXPECT_EQ(inside[2], 0xC0);
  EXPECT_LT(gray(img, 118, 142), 128) << "the top-right corner is square";
  EXPECT_EQ(gray(img, 22, 142), 255) << "the top-left corner is rounded";
  EXPECT_EQ(img.pixel(170, 180)[1], 0xA0);  // circle centre, green
  EXPECT_EQ(img.pixel(260, 200)[0], 0xC0);  // triangle, red
  // Nested clips intersect: the red fill shows in [460,520] x [60,120] only.
  EXPECT_EQ(img.pixel(490, 90)[0], 255);
  EXPECT_EQ(img.pixel(490, 90)[1], 0);
  EXPECT_EQ(gray(img, 430, 40), 255) << "inside the outer clip only";
  EXPECT_EQ(gray(img, 560, 160), 255) << "inside the inner clip only";
  EXPECT_EQ(gray(img, 590, 5), 255) << "outside both clips";
  // The image at its own resolution (nearest): four sharp quadrants at [20,80] x [240,300].
  EXPECT_EQ(gray(img, 30, 250), 0);
  EXPECT_EQ(gray(img, 70, 250), 255);
  EXPECT_EQ(gray(img, 30, 290), 255);
  EXPECT_EQ(gray(img, 70, 290), 0);
  EXPECT_EQ(gray(img, 49, 250), 0) << "nearest, not smoothed, next to the edge";
}

TEST(PictureExport, PngTextIsPlacedAndAlignedByTheMeasuredWidth) {
  ScratchDir dir;
  const fw::Image8 img = png_of(dir, test_picture(false), "t.png");
  const Font f{kText.face, 26};  // 2 px per unit
  const int anchor = 300;        // x = 150 units
  // (Columns clear of the circle's black outline at x < 202.)
  auto [l0, l1] = ink_columns(img, 280, 440, 140, 140 + 26);
  auto [c0, c1] = ink_columns(img, 210, 400, 180, 180 + 26);
  auto [r0, r1] = ink_columns(img, 210, 320, 220, 220 + 26);
  const float wl = text_width("Left", f), wc = text_width("Centre", f), wr = text_width("Right", f);
  EXPECT_NEAR(l0, anchor, 4);
  EXPECT_NEAR(l1, anchor + wl, 5);
  EXPECT_NEAR((c0 + c1) * 0.5, anchor, 3);
  EXPECT_NEAR(c1 - c0, wc, 6);
  EXPECT_NEAR(r1, anchor, 4);
  EXPECT_NEAR(r0, anchor - wr, 5);
  // The line box: nothing above its top (y = 70 units = 140 px), the glyphs' ink in it.
  int above = 0;
  for (int x = l0; x <= l1; ++x) above += gray(img, x, 137) < 200;
  EXPECT_EQ(above, 0);
}

TEST(PictureExport, QtLaysTextOutWithTheMeasuredWidths) {
  for (FontFace face : {FontFace::Sans, FontFace::SansBold, FontFace::Mono, FontFace::MonoBold,
                        FontFace::Serif, FontFace::SerifBold})
    for (const char* s : {"stages.2.blocks.0.token_mixer",
                          "Conv2d \xC2\xB7 3\xE2\x86\x92"
                          "64",
                          "WAVE AVA To",
                          "512\xC3\x97"
                          "7\xC3\x97"
                          "7"})
      for (float size : {9.0f, 13.0f, 27.5f}) {
        const Font f{face, size};
        const float want = text_width(s, f), got = qt_text_width(s, f);
        EXPECT_NEAR(got, want, 0.005f * want + 0.05f)
            << "'" << s << "' face " << int(face) << " size " << size;
      }
}

TEST(PictureExport, PngBackgroundNoneIsTransparent) {
  ScratchDir dir;
  const fw::Image8 none = png_of(dir, test_picture(false, kNone), "n.png");
  EXPECT_EQ(none.pixel(2, 318)[3], 0);
  EXPECT_EQ(none.pixel(70, 180)[3], 255);
  const fw::Image8 white = png_of(dir, test_picture(false), "w.png");
  EXPECT_EQ(white.pixel(2, 318)[3], 255);
}

TEST(PictureExport, AMissingDirectoryThrowsNamingThePathAndWritesNothing) {
  ScratchDir dir;
  const std::string path = dir.file("no/such/dir/a.svg");
  EXPECT_ERROR_HAS(export_picture(test_picture(false), PictureFormat::Svg, path), path);
  EXPECT_TRUE(dir.names().empty());
  // A parent that is a regular file (root may write anywhere else).
  fw::test::write_bytes(dir.file("file"), {'x'});
  const std::string under = dir.file("file/a.png");
  EXPECT_ERROR_HAS(export_picture(test_picture(false), PictureFormat::Png, under), under);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"file"});
}

TEST(PictureExport, AFailedExportKeepsTheOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("keep.png");
  fw::test::write_bytes(path, {'o', 'l', 'd'});
  // Encoding fails: a PNG of 100000 x 53333 pixels.
  EXPECT_ERROR_HAS(export_picture(test_picture(false), PictureFormat::Png, path, 100000),
                   "too large");
  EXPECT_EQ(text_of(path), "old");
  // Writing fails after the new bytes are in the temp file, before the rename.
  for (PictureFormat format : {PictureFormat::Svg, PictureFormat::Pdf, PictureFormat::Png}) {
    fw::testing::set_atomic_write_hook(
        [](const std::string&) { throw fw::Error("keep.png: cannot write (simulated)"); });
    EXPECT_ERROR_HAS(export_picture(test_picture(true), format, path), "simulated");
    fw::testing::set_atomic_write_hook({});
    EXPECT_EQ(text_of(path), "old");
    EXPECT_EQ(dir.names(), std::vector<std::string>{"keep.png"}) << "a temp file was left";
  }
  export_picture(test_picture(false), PictureFormat::Png, path);
  EXPECT_EQ(fw::read_image(path, 4).width, 300);
}

TEST(PictureExport, AnEmptyPictureIsAnError) {
  ScratchDir dir;
  Picture p = test_picture(false);
  p.size = {0, 10};
  EXPECT_ERROR_HAS(export_picture(p, PictureFormat::Pdf, dir.file("e.pdf")), "empty");
  p.size = {NAN, 10};
  EXPECT_ERROR_HAS(export_picture(p, PictureFormat::Svg, dir.file("e.svg")), "empty");
  EXPECT_TRUE(dir.names().empty());
}

#else  // no Qt 6 in this build

TEST(PictureExport, ABuildWithoutQtSaysSo) {
  ScratchDir dir;
  EXPECT_FALSE(picture_export_available());
  for (PictureFormat format : {PictureFormat::Svg, PictureFormat::Pdf, PictureFormat::Png}) {
    const std::string path = dir.file(std::string("a.") + picture_format_name(format));
    EXPECT_ERROR_HAS(export_picture(test_picture(false), format, path), "this build has no Qt 6");
    EXPECT_ERROR_HAS(export_picture(test_picture(false), format, path),
                     std::string("cannot write ") + picture_format_name(format) + " files");
  }
  EXPECT_TRUE(dir.names().empty());
}

#endif

TEST(PictureExport, FormatsAndSizes) {
  EXPECT_EQ(picture_format_for("a/b.SVG"), PictureFormat::Svg);
  EXPECT_EQ(picture_format_for("x.pdf"), PictureFormat::Pdf);
  EXPECT_EQ(picture_format_for("x.Png"), PictureFormat::Png);
  EXPECT_EQ(picture_format_for("x.svg.txt"), std::nullopt);
  EXPECT_EQ(picture_format_for("svg"), std::nullopt);
  EXPECT_STREQ(picture_format_name(PictureFormat::Pdf), "pdf");
  Picture p;
  p.size = {300.4f, 159.2f};
  EXPECT_EQ(picture_output_size(p, PictureFormat::Svg).width, 301);
  EXPECT_EQ(picture_output_size(p, PictureFormat::Pdf).height, 160);
  EXPECT_EQ(picture_output_size(p, PictureFormat::Png).width, 300);
  EXPECT_EQ(picture_output_size(p, PictureFormat::Png).height, 159);
  EXPECT_EQ(picture_output_size(p, PictureFormat::Png, 1000).height, 530);  // 529.96
  p.size = {1000, 1};
  EXPECT_EQ(picture_output_size(p, PictureFormat::Png, 10).height, 1);  // at least one row
}

}  // namespace
