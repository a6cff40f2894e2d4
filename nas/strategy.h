// Search strategies: random sampling, regularised evolution (Real et al. 2019) and NSGA-II (Deb et
// al. 2002), as ask/tell state machines over picks (nas/space.h), seeded and deterministic.
//
// Protocol (nas/search.h drives it)
//  - propose() returns the next batch of proposals; the driver evaluates them (in parallel
//    threads, in any order) and calls tell() once with one Outcome per proposal, in proposal
//    order. A strategy sees nothing else, so the same seed and the same outcomes give the same
//    proposals: a resumed search replays stored outcomes and continues exactly.
//  - A proposal may repeat an already evaluated subnet (same canonical key): the driver answers
//    it from its cache without evaluating again; the strategy cannot tell the difference.
//  - An outcome is `ok` with its objective values (oriented for minimisation: the driver negates
//    maximised metrics), or not ok (invalid graph, filtered by a constraint, failed while scored):
//    such a subnet never joins a population or a front; the strategy proposes more instead.
//  - Batch sizes depend only on the settings, never on the thread count.
//
// Randomness: one std::mt19937_64 seeded with `seed`; integers drawn by Lemire-free rejection
// (uniform_index below), so the stream is the same with every standard library.
//
// Strategies
//  random     batches of kRandomBatch picks, each value uniform per choice.
//  evolution  (Real et al. 2019, single objective: the first; the later objectives break ties)
//             first `population` random picks (and, while some were not ok, batches of as many
//             random picks as ok members are missing, until `population` are ok); then cycles of
//             kEvolutionBatch children: each child = a tournament of `tournament` members drawn
//             uniformly with replacement from the population, its best (equal values: the first
//             drawn) mutated in one uniformly chosen choice to a different value (a choice with
//             one value is never chosen; with none to choose the child is a copy of its parent;
//             a cycle's children all come from the population as it was before the cycle); when
//             the outcomes come back the ok children join the population and the oldest members
//             leave so that it keeps `population` members. Parent = the tournament winner.
//  nsga2      (Deb et al. 2002, two or three objectives) first `population` random picks (then
//             the missing ones, as evolution); each generation makes `population` children: two
//             parents by binary tournament (two members drawn uniformly with replacement; lower
//             rank wins, then larger crowding distance, then the first drawn; ranks and distances
//             of the current population), uniform crossover (each choice from either parent with
//             probability 1/2) with probability `crossover` (else a copy of the first parent),
//             then each choice mutated to a different uniform value with probability 1/number of
//             choices (all the space's choices count; one with one value is never mutated);
//             parent = the first parent. Parents (in age order) + ok children are sorted into
//             fronts and the next population is filled front by front, the last front by
//             decreasing crowding distance (over that whole front; ties by lower index: older
//             first); the members kept stay in age order.
//  Every proposal carries a generation: 0 for the initial random ones, then 1, 2, ... per cycle
//  or generation (random: the batch number).
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "nas/space.h"

namespace fw {

inline constexpr int kRandomBatch = 16;
inline constexpr int kEvolutionBatch = 8;

struct StrategySettings {
  std::string name = "random";  // random | evolution | nsga2
  uint64_t seed = 0;
  int population = 20;     // evolution, nsga2
  int tournament = 5;      // evolution: sample size S
  double crossover = 0.9;  // nsga2: crossover probability
  int objectives = 1;      // how many objective values each ok outcome carries
};

struct Proposal {
  Pick pick;
  int parent = -1;  // index (in proposal order over the whole search) of the parent, or -1
  int generation = 0;
};

struct Outcome {
  bool ok = false;
  std::vector<double> objectives;  // oriented for minimisation; size == settings.objectives
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::vector<Proposal> propose() = 0;
  virtual void tell(const std::vector<Outcome>& outcomes) = 0;
};

// The value counts of a space (one per choice) are what a strategy needs of it.
// Throws fw::UsageError for an unknown strategy name ("unknown strategy 'x'; use random,
// evolution or nsga2"), population < 2 (evolution, nsga2), tournament < 1 or > population
// (evolution), nsga2 with fewer than 2 or more than 3 objectives, evolution with no objective;
// random ignores population, tournament and crossover.
std::unique_ptr<Strategy> make_strategy(const StrategySettings& s,
                                        const std::vector<int>& value_counts);

// Uniform integer in [0, n) from the generator, by rejection (same on every platform).
int uniform_index(std::mt19937_64& rng, int n);
// Uniform double in [0, 1) from 53 bits of the generator.
double uniform_real(std::mt19937_64& rng);

}  // namespace fw
