#include <gtest/gtest.h>

#include "core/tensor.h"

TEST(Tensor, NumelAndShapeString) {
  EXPECT_EQ(fw::numel({}), 1);
  EXPECT_EQ(fw::numel({64, 56, 56}), 64 * 56 * 56);
  EXPECT_EQ(fw::shape_str({64, 56, 56}), "64x56x56");
  EXPECT_EQ(fw::shape_str({}), "scalar");
  fw::Tensor t({2, 3}, 1.5f);
  EXPECT_EQ(t.size(), 6);
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_FLOAT_EQ(t.data[5], 1.5f);
}
