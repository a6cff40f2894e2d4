// Depthwise convolution, one (sample, channel) plane at a time (internal to conv.cpp).
//  - x: (H, W) -> y: (Ho, Wo), kernel k x k, stride s, zero padding p.
//  - Kernels 3, 5 and 7 at stride 1 have compile-time unrolled paths: two output rows at a time,
//    16-wide vectors, the kx shifts made with lane shifts of aligned loads (shift_lanes) instead
//    of unaligned loads; other sizes and strides use generic loops.
#pragma once
#include <cstdint>

namespace fw::cpu {

struct DwGeom {
  int64_t H, W, k, s, p, Ho, Wo;
};

// y = b + correlation of x with w (k*k).
void dw_forward_plane(const DwGeom& g, const float* x, const float* w, float b, float* y);
// dx (H, W) from dy (Ho, Wo).
void dw_backward_dx_plane(const DwGeom& g, const float* dy, const float* w, float* dx);
// dw (k*k) = Σ dy · shifted x; returns Σ dy (the bias gradient of this plane).
float dw_backward_dw_plane(const DwGeom& g, const float* x, const float* dy, float* dw);

}  // namespace fw::cpu
