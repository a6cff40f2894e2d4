// ONNX export (core/export/model_export.h).
#include "core/export/model_export.h"

namespace fw {

bool onnx_export_available() {
#ifdef FORMWORK_WITH_ONNX
  return true;
#else
  return false;
#endif
}

}  // namespace fw
