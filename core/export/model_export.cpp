// What the exporters share (core/export/model_export.h).
#include "core/export/model_export.h"

#include "core/error.h"

namespace fw {

void require_exportable(const Analysis& a, const std::string& what) {
  if (a.ok()) return;
  try {
    require_valid(a);
  } catch (const Error& e) {
    throw Error(what + " has problems, nothing exported: " + e.what());
  }
}

}  // namespace fw
