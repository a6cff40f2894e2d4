// A search over MPI (issue #15): `mpirun -np K formwork nas ...` runs the same command in K
// processes; rank 0 drives the strategy and alone writes the project, ranks 1..K-1 score subnets.
//
// Protocol (all messages are JSON text)
//  - Start: every rank sends its Formwork version (kFormworkBuild) to rank 0; a mismatch is refused
//    there, naming both. Then every rank prepares the search itself from the same command line
//    (nas/session.h prepare_search: it reads the project, read-only, and builds the proxy batch and
//    the training data), and reports "" or its error to rank 0, which stops the job, nothing
//    written, on the first one ("rank 2: p.formwork: cannot open (...)").
//  - Work: for each batch the strategy proposes, rank 0 sends each subnet to score ({"i", "graph",
//    "serial"}) to the next free worker, as workers become free: a slow subnet holds only its own
//    worker. A worker answers {"i", "status", "reason", "metrics", "seconds"}; a worker that cannot
//    score one (a bad graph, an error) answers "failed" with the reason, and the search goes on.
//    Within a batch the order of answers does not matter: results are committed in proposal order
//    (nas/search.h), so the results equal the single-process run's. Between batches there is a
//    barrier: the strategy proposes its next generation (or evolution cycle) only when the whole
//    batch is back, which is what keeps the results independent of the number of ranks and of
//    timing; with many ranks, set --population (or rely on the 16-subnet random batches) to at
//    least the number of workers so that none waits idle.
//  - End: rank 0 sends "stop" to every worker, on success and on any error. A rank that dies ends
//    the job (MPI's default); every result committed before is in the project, and the same
//    command, with or without MPI, continues the search.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "nas/evaluate.h"

namespace fw {

// "0.1.0+<git commit>" of this build: what the ranks compare.
extern const char* const kFormworkBuild;

// Built with MPI (FORMWORK_MPI)?
bool mpi_built();

struct MpiWorld {
  int rank = 0, size = 1;
  bool active = false;  // MPI was initialised (size > 1)
};

// When the process was started by mpirun/srun as one of several ranks: initialises MPI (a build
// without MPI throws fw::Error "this formwork was built without MPI ...", printed by rank 0 only;
// `quiet_error` tells the others). A single rank, or a plain start, does nothing (size 1).
MpiWorld mpi_start(bool* quiet_error = nullptr);
void mpi_finish(const MpiWorld& w);

// Start: the version check and the preparation's outcome of every rank, gathered on rank 0. Rank 0
// returns "" when all agree and every rank is ready, else the first problem (other ranks: "").
std::string mpi_gather_ready(const MpiWorld& w, const std::string& my_problem);
// Whether rank 0 goes on (broadcast from it after mpi_gather_ready).
bool mpi_broadcast_go(const MpiWorld& w, bool go);

// Rank 0: scores `graphs` on the workers, calling done(i, score) as each comes back.
void mpi_evaluate(const MpiWorld& w, const std::vector<std::string>& graph_json, bool serial,
                  const std::function<void(size_t, const SubnetScore&)>& done);
// Rank 0: tells every worker to stop (idempotent).
void mpi_stop_workers(const MpiWorld& w);
// Ranks 1..K-1: score what rank 0 sends with `eval` until it says stop.
void mpi_serve(const MpiWorld& w, const EvalSettings& eval);

}  // namespace fw
