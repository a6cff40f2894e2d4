// core/format.h: the one number and time formatter of the CLI and the GUI.
#include "core/format.h"

#include <gtest/gtest.h>

#include <regex>

#include "core/sysmem.h"

using fw::format_count;
using fw::format_duration;
using fw::format_si;

TEST(Format, Counts) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(11915176), "11,915,176");
  EXPECT_EQ(format_count(-1234567), "-1,234,567");
  EXPECT_EQ(format_count(INT64_MIN), "-9,223,372,036,854,775,808");
  EXPECT_EQ(format_count(INT64_MAX - 1), "9,223,372,036,854,775,806");
  EXPECT_EQ(format_count(INT64_MAX), ">9.2E");  // a saturated count, never a wrapped one
}

TEST(Format, Si) {
  EXPECT_EQ(format_si(12), "12");
  EXPECT_EQ(format_si(9472), "9.47 K");
  EXPECT_EQ(format_si(11915176), "11.9 M");
  EXPECT_EQ(format_si(1812267008), "1.81 G");
  EXPECT_EQ(format_si(999999), "1.00 M");
  EXPECT_EQ(format_si(640000), "640 K");
  EXPECT_EQ(format_si(1812267008, ""), "1.81G");  // the CLI tables
  EXPECT_EQ(format_si(-2500, ""), "-2.50K");
  EXPECT_EQ(format_si(9.2233720368547758e18), "9.22 E");
  EXPECT_EQ(fw::format_bytes(4.4e12L), "4.40 TB");
  EXPECT_EQ(fw::format_bytes(512), "512 B");
  EXPECT_EQ(fw::format_bytes(5.07e30L), "5.07e+30 B");
  EXPECT_EQ(fw::format_big(1.27e30L), "1.27e+30");
}

TEST(Format, Durations) {
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(59.4), "59 s");
  EXPECT_EQ(format_duration(185), "3 min 05 s");
  EXPECT_EQ(format_duration(3725), "1 h 02 min");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Format, NowIsIso8601Utc) {
  EXPECT_TRUE(std::regex_match(fw::now_iso8601(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}
