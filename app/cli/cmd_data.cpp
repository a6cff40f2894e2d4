// formwork data export ...
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "core/atomic_file.h"
#include "core/datasets.h"
#include "core/error.h"
#include "core/image_io.h"

namespace fw::cli {

void register_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Datasets: export their items as image files");
  data->require_subcommand(1);
  auto* cmd = data->add_subcommand(
      "export", "Write a dataset split's items as DIR/00000.png ... with DIR/index.json");
  cmd->footer(
      "The items are the bytes training and eval feed the network before normalisation: at "
      "the dataset's own size, or with --image-size fitted as training fits them (Fashion-MNIST "
      "padded with black, other datasets resized). index.json lists "
      "{file, label, class_name, box} per item (box [x0, y0, x1, y1], x1/y1 exclusive, for "
      "datasets with boxes). DIR must be new or empty; it appears complete or not at all.");
  struct Args {
    std::string dataset, split = "test", out;
    int64_t limit = 0;
    int image_size = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("NAME", a->dataset, "fashion-mnist, fashion-mnist-placed or DIR")->required();
  cmd->add_option("--split", a->split, "train or test (default test)")
      ->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--limit", a->limit, "first N items only (default all)")->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  cmd->add_option("--image-size", a->image_size, "fit the items to N x N (default: their own size)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--out", a->out, "directory to write")->required();
  cmd->callback([a] {
    LoadOptions lo;
    lo.limit = a->limit;
    lo.image_size = a->image_size;
    lo.normalization = false;
    const Dataset ds = load_dataset(a->dataset, a->split, lo);
    write_dir_atomic(a->out, [&](const std::string& dir) {
      nlohmann::ordered_json index = nlohmann::ordered_json::array();
      for (int64_t i = 0; i < ds.size(); ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "%05lld.png", (long long)i);
        write_png(dir + "/" + name, sample_image(ds, i));
        nlohmann::ordered_json item = {{"file", name},
                                       {"label", ds.labels[i]},
                                       {"class_name", ds.class_names.at(size_t(ds.labels[i]))}};
        if (!ds.boxes.empty()) {
          const Box& b = ds.boxes[i];
          item["box"] = {b.x0, b.y0, b.x1, b.y1};
        }
        index.push_back(item);
      }
      const std::string text = index.dump(1) + "\n";
      const std::string path = dir + "/index.json";
      write_file_atomic(path, [&](int fd) { write_all(fd, text.data(), text.size(), path); });
    });
    std::printf("wrote %lld items of %s/%s (%dx%dx%d) to %s\n", (long long)ds.size(),
                a->dataset.c_str(), a->split.c_str(), ds.channels, ds.height, ds.width, a->out.c_str());
  });
}

}  // namespace fw::cli
