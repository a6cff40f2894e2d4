#include "nas/mpi.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/graph_json.h"
#include "kernels/parallel.h"

#if FORMWORK_WITH_MPI
#include <mpi.h>
#endif

#ifndef FORMWORK_WITH_MPI
#define FORMWORK_WITH_MPI 0
#endif
#ifndef FORMWORK_BUILD_ID
#define FORMWORK_BUILD_ID "0.1.0"
#endif

namespace fw {

const char* const kFormworkBuild = FORMWORK_BUILD_ID;

namespace {

using json = nlohmann::json;

// The launcher's idea of this process's rank and size (OpenMPI's mpirun, PMIx, PMI / Slurm).
bool env_int(const char* name, int& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end) return false;
  out = int(x);
  return true;
}

bool launched(int& rank, int& size) {
  rank = 0;
  size = 1;
  const bool sized = env_int("OMPI_COMM_WORLD_SIZE", size) || env_int("PMIX_SIZE", size) ||
                     env_int("PMI_SIZE", size);
  if (!sized) return false;
  env_int("OMPI_COMM_WORLD_RANK", rank) || env_int("PMIX_RANK", rank) || env_int("PMI_RANK", rank);
  return size > 1;
}

#if FORMWORK_WITH_MPI
json score_json(size_t i, const SubnetScore& s) {
  json m = json::object();
  for (const auto& [k, v] : s.metrics) {
    if (std::isfinite(v))
      m[k] = v;
    else
      m[k] = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  }
  return {
      {"i", i}, {"status", s.status}, {"reason", s.reason}, {"metrics", m}, {"seconds", s.seconds}};
}

SubnetScore score_from_json(const json& j) {
  SubnetScore s;
  s.status = j.at("status").get<std::string>();
  s.reason = j.at("reason").get<std::string>();
  s.seconds = j.at("seconds").get<double>();
  for (const auto& [k, v] : j.at("metrics").items()) {
    if (v.is_number()) {
      s.metrics[k] = v.get<double>();
    } else {
      const std::string t = v.get<std::string>();
      s.metrics[k] = t == "inf" ? INFINITY : t == "-inf" ? -INFINITY : NAN;
    }
  }
  return s;
}

constexpr int kTagReady = 1, kTagWork = 2, kTagStop = 3, kTagResult = 4;

void send_text(const std::string& s, int to, int tag) {
  MPI_Send(s.data(), int(s.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

// Waits for a message without spinning: OpenMPI's blocking probe polls at full speed, which
// takes a core from the ranks that work when they share a machine.
void wait_probe(int from, int tag, MPI_Status* st) {
  for (int flag = 0;;) {
    MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, st);
    if (flag) return;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

std::string recv_text(int from, int tag, MPI_Status* out = nullptr) {
  MPI_Status st;
  wait_probe(from, tag, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string s(size_t(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (out) *out = st;
  return s;
}

bool g_stopped = false;
#endif

}  // namespace

bool mpi_built() { return FORMWORK_WITH_MPI != 0; }

MpiWorld mpi_start(bool* quiet_error) {
  MpiWorld w;
  int rank = 0, size = 1;
  if (!launched(rank, size)) return w;
#if FORMWORK_WITH_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  w.active = true;
  (void)quiet_error;
  return w;
#else
  if (quiet_error) *quiet_error = rank != 0;
  throw Error("this formwork was built without MPI (FORMWORK_MPI): it cannot run as rank " +
              std::to_string(rank) + " of " + std::to_string(size) +
              "; install libopenmpi-dev and rebuild, or run without mpirun");
#endif
}

void mpi_finish(const MpiWorld& w) {
#if FORMWORK_WITH_MPI
  if (w.active) MPI_Finalize();
#else
  (void)w;
#endif
}

std::string mpi_gather_ready(const MpiWorld& w, const std::string& my_problem) {
#if FORMWORK_WITH_MPI
  if (!w.active) return my_problem;
  // FORMWORK_TEST_MPI_BUILD stands in for this rank's build (tests of the refusal).
  const char* test_build = std::getenv("FORMWORK_TEST_MPI_BUILD");
  const std::string build = test_build && *test_build ? test_build : kFormworkBuild;
  const std::string mine = json{{"build", build}, {"problem", my_problem}}.dump();
  if (w.rank != 0) {
    send_text(mine, 0, kTagReady);
    return "";
  }
  std::string first;
  if (!my_problem.empty()) first = my_problem;
  for (int r = 1; r < w.size; ++r) {
    const json j = json::parse(recv_text(r, kTagReady));
    const std::string build = j.at("build").get<std::string>();
    const std::string problem = j.at("problem").get<std::string>();
    if (!first.empty()) continue;
    if (build != kFormworkBuild)
      first = "rank " + std::to_string(r) + " runs Formwork " + build + ", rank 0 runs " +
              kFormworkBuild + ": every rank needs the same build";
    else if (!problem.empty())
      first = "rank " + std::to_string(r) + ": " + problem;
  }
  return first;
#else
  (void)w;
  return my_problem;
#endif
}

bool mpi_broadcast_go(const MpiWorld& w, bool go) {
#if FORMWORK_WITH_MPI
  if (!w.active) return go;
  int v = go ? 1 : 0;
  MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return v != 0;
#else
  (void)w;
  return go;
#endif
}

void mpi_evaluate(const MpiWorld& w, const std::vector<std::string>& graph_json, bool serial,
                  const std::function<void(size_t, const SubnetScore&)>& done) {
#if FORMWORK_WITH_MPI
  std::deque<int> idle;
  for (int r = 1; r < w.size; ++r) idle.push_back(r);
  size_t next = 0, outstanding = 0;
  while (next < graph_json.size() || outstanding > 0) {
    while (next < graph_json.size() && !idle.empty()) {
      const int r = idle.front();
      idle.pop_front();
      send_text(json{{"i", next}, {"graph", graph_json[next]}, {"serial", serial}}.dump(), r,
                kTagWork);
      ++next;
      ++outstanding;
    }
    MPI_Status st;
    const json j = json::parse(recv_text(MPI_ANY_SOURCE, kTagResult, &st));
    idle.push_back(st.MPI_SOURCE);
    --outstanding;
    done(j.at("i").get<size_t>(), score_from_json(j));
  }
#else
  (void)w;
  (void)graph_json;
  (void)serial;
  (void)done;
  throw Error("this formwork was built without MPI");
#endif
}

void mpi_stop_workers(const MpiWorld& w) {
#if FORMWORK_WITH_MPI
  if (!w.active || w.rank != 0 || g_stopped) return;
  g_stopped = true;
  for (int r = 1; r < w.size; ++r) send_text("stop", r, kTagStop);
#else
  (void)w;
#endif
}

void mpi_serve(const MpiWorld& w, const EvalSettings& eval) {
#if FORMWORK_WITH_MPI
  (void)w;
  for (;;) {
    MPI_Status st;
    wait_probe(0, MPI_ANY_TAG, &st);
    const std::string text = recv_text(0, st.MPI_TAG);
    if (st.MPI_TAG == kTagStop) return;
    if (st.MPI_TAG != kTagWork) continue;
    size_t i = 0;
    SubnetScore sc;
    try {
      const json j = json::parse(text);
      i = j.at("i").get<size_t>();
      const Graph g = graph_from_json(j.at("graph").get<std::string>(), "subnet from rank 0");
      std::unique_ptr<SerialScope> one;
      if (j.at("serial").get<bool>()) one = std::make_unique<SerialScope>();
      sc = evaluate_subnet(g, eval);
    } catch (const std::exception& e) {
      sc.status = "failed";
      sc.reason = std::string("rank ") + std::to_string(w.rank) + ": " + e.what();
    }
    send_text(score_json(i, sc).dump(), 0, kTagResult);
  }
#else
  (void)w;
  (void)eval;
  throw Error("this formwork was built without MPI");
#endif
}

}  // namespace fw
