// What an image goes through before a trained network sees it: the exact preprocessing of the
// data the network was trained on, kept in the project (meta "input_pipeline") so that `infer`,
// `gradcam`, the views and the GUI treat a user's image file as the training data was treated.
//
// InputPipeline
//  - channels: the dataset's channels; an image file is decoded to them (core/image_io.h:
//    read_image's gray conversion, or gray replicated to RGB).
//  - fit, item_width/item_height, width/height: how an image becomes width x height (the
//    network's input):
//      Resize  stretched to width x height with resize_bilinear (PIL's BILINEAR): what the image
//              folders, fashion-mnist-placed and Fashion-MNIST with fit Resize do to their items
//              (the same size is taken as it is).
//      Pad     the dataset's items are item_width x item_height (Fashion-MNIST: 28 x 28) centred
//              on a black width x height canvas, odd margins giving the extra pixel to the right
//              and bottom (core/datasets.h). An image of the item size is padded so; an image of
//              the network's size is taken as it is (already padded: the project's stored samples
//              are such images); any other size is first resized bilinearly to the item size.
//      Crop    timm's eval transform (a template's own preprocessing, for networks that have no
//              training data): PIL-bicubic resize so that the image covers
//              floor(height / crop_pct) x floor(width / crop_pct) with its aspect kept — for a
//              square input, torchvision's Resize(floor(size / crop_pct)): the shorter side to
//              that size, the longer to int(size * long / short) — then torchvision's CenterCrop
//              to height x width (offsets int(round(d / 2)), Python's round half to even).
//  - net_channels: the network's input channels; a 1-channel dataset feeds a 3-channel network
//    by replicating gray (core/batches.h).
//  - norm: x = (v/255 - mean[c]) / std[c] per dataset channel (one value for all channels is
//    accepted), computed exactly as the batch loader does.
//  - dataset: where the pipeline came from ("fashion-mnist", a directory, ...), informational.
//
// JSON (meta "input_pipeline"): {"dataset": "fashion-mnist", "fit": "pad", "item_size": [28, 28],
//   "size": [32, 32], "channels": 1, "net_channels": 1, "mean": [0.286], "std": [0.353]}
//   ("item_size" only with "pad", "crop_pct" (0 < c <= 4) only with "crop"; sizes are
//   [height, width]). from_json checks every field and
//   throws fw::Error "input pipeline: <what>" (a wrong type, a missing key, a size outside
//   1..65536, channels other than 1 or 3, a mean/std count that is neither 1 nor channels, a
//   non-finite mean, a std that is not a positive finite number).
//
// Normalisation JSON (meta "input_norm", kept beside the pipeline for older readers):
//   {"mean": [...], "std": [...]}, checked the same way ("input normalisation: <what>").
#pragma once
#include <string>

#include "core/datasets.h"
#include "core/image_io.h"
#include "core/tensor.h"

namespace fw {

struct InputPipeline {
  std::string dataset;
  Fit fit = Fit::Resize;
  int item_width = 0, item_height = 0;  // Pad only
  double crop_pct = 1.0;                // Crop only
  int width = 0, height = 0;
  int channels = 1;
  int net_channels = 1;
  Normalization norm;

  bool operator==(const InputPipeline&) const = default;
};

// The pipeline of a dataset as loaded (its fit, size and channels), with the normalisation the
// network is trained with and the network's input channels.
InputPipeline input_pipeline_of(const Dataset& ds, const Normalization& norm, int net_channels);

// timm's eval transform for an input [C, H, W] (C = 1 or 3): Crop with `crop_pct`, ImageNet's
// mean and std (gray: 0.449 and 0.226, the means of the three).
InputPipeline timm_eval_pipeline(const Shape& input, double crop_pct);

std::string input_pipeline_to_json(const InputPipeline& p);
InputPipeline input_pipeline_from_json(const std::string& text);

std::string normalization_to_json(const Normalization& n);
Normalization normalization_from_json(const std::string& text);
// Throws fw::Error "<what>: ..." unless n has 1..4 finite means and as many positive finite stds.
void check_normalization(const Normalization& n, const std::string& what);

// The image fitted to p's width x height (at the image's own channel count, which should be
// p.channels).
Image8 fit_image(const Image8& img, const InputPipeline& p);
// The image as the network's input [1, net_channels, height, width]: fitted, then normalised
// exactly as core/batches.h does for the dataset's items.
Tensor pipeline_tensor(const Image8& img, const InputPipeline& p);
// Decodes the file at p.channels and applies the pipeline.
Tensor pipeline_tensor(const std::string& image_path, const InputPipeline& p);

}  // namespace fw
