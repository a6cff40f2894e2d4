// The data settings a project keeps in its meta table, checked when the project is opened
// (load_project), and read back by every command and view.
//
// Keys (all optional; written by training, kernels/train/project_run.h)
//   input_pipeline     JSON, core/input_pipeline.h: how images become the network's input
//   input_norm         JSON {"mean": [...], "std": [...]}: the normalisation alone (older files
//                      have only this; the pipeline is then derived, below)
//   dataset            the training dataset's name or directory
//   class_names        JSON list of strings, label order
//   samples            JSON list of {"blob": NAME, "label": K, "box": [x0, y0, x1, y1]}: stored
//                      test images; each blob must exist in the project
//   train_epochs_done  a non-negative integer
// check_project_meta throws fw::Error "meta 'KEY': <what>" for the first key that is malformed;
// load_project prefixes the file name.
//
// project_input_pipeline(p, input): the stored pipeline, or for a file with only input_norm the
// one its training used (Fashion-MNIST padded from 28x28 when the input is larger, otherwise
// resized; the normalisation's channel count as the data's); nullopt when neither is stored.
// `input` ([C, H, W], the network's input) must match the pipeline's size and channels, else
// fw::Error saying both (the graph was changed since training).
//
// image_input_pipeline(p, g, input): what an image file given to the network `g` goes through:
// the project's pipeline when it has one, else timm's eval transform with the crop_pct of the
// template g was built from (meta "template"; 1.0 for other graphs). fw::Error for an input
// that is not 1 or 3 channels.
#pragma once
#include <optional>
#include <string>

#include "core/graph.h"
#include "core/input_pipeline.h"
#include "core/project_store.h"

namespace fw {

void check_project_meta(const ProjectData& p);

std::optional<InputPipeline> project_input_pipeline(const ProjectData& p, const Shape& input);

InputPipeline image_input_pipeline(const ProjectData& p, const Graph& g, const Shape& input);

// The normalisation the project's training used (its pipeline's, else input_norm), or empty.
Normalization stored_normalization(const ProjectData& p);

}  // namespace fw
