#include "nas/strategy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "nas/pareto.h"

namespace fw {

int uniform_index(std::mt19937_64& rng, int n) {
  FW_ASSERT(n >= 1, "uniform_index needs n >= 1");
  const uint64_t un = uint64_t(n);
  // 2^64 mod n: the draws below it are rejected so that every residue is equally likely.
  const uint64_t reject_below = (uint64_t(0) - un) % un;
  for (;;) {
    const uint64_t x = rng();
    if (x >= reject_below) return int(x % un);
  }
}

double uniform_real(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

namespace {

// One member of a population: the proposal it came from and its objective values.
struct Member {
  Pick pick;
  int index = -1;  // proposal index
  std::vector<double> objectives;
};

// a < b in the lexicographic order of objective values, NaN after every number.
bool lexicographically_better(const std::vector<double>& a, const std::vector<double>& b) {
  for (size_t k = 0; k < a.size() && k < b.size(); ++k) {
    const bool na = std::isnan(a[k]), nb = std::isnan(b[k]);
    if (na && nb) continue;
    if (na != nb) return nb;
    if (a[k] != b[k]) return a[k] < b[k];
  }
  return false;
}

class StrategyBase : public Strategy {
 public:
  StrategyBase(const StrategySettings& s, const std::vector<int>& counts)
      : settings_(s), counts_(counts), rng_(s.seed) {
    for (int c : counts_) FW_ASSERT(c >= 1, "every choice of a space has a value");
    for (int i = 0; i < int(counts_.size()); ++i)
      if (counts_[size_t(i)] > 1) mutable_.push_back(i);
  }

  std::vector<Proposal> propose() final {
    FW_ASSERT(!awaiting_, "propose() again before tell() answered the last batch");
    std::vector<Proposal> batch = next_batch();
    first_index_ = next_index_;
    next_index_ += int(batch.size());
    pending_ = batch;
    awaiting_ = true;
    return batch;
  }

  void tell(const std::vector<Outcome>& outcomes) final {
    FW_ASSERT(awaiting_, "tell() without a batch proposed");
    FW_ASSERT(outcomes.size() == pending_.size(), "tell() takes one outcome per proposal");
    awaiting_ = false;
    told(outcomes);
  }

 protected:
  virtual std::vector<Proposal> next_batch() = 0;
  virtual void told(const std::vector<Outcome>& outcomes) = 0;

  // The proposal index of the i-th proposal of the batch told.
  int told_index(size_t i) const { return first_index_ + int(i); }

  Pick random_pick() {
    Pick p(counts_.size());
    for (size_t c = 0; c < counts_.size(); ++c) p[c] = uniform_index(rng_, counts_[c]);
    return p;
  }
  // A uniformly chosen value of choice c other than the current one (counts_[c] > 1).
  void mutate_choice(Pick& p, size_t c) {
    const int v = uniform_index(rng_, counts_[c] - 1);
    p[c] = v >= p[c] ? v + 1 : v;
  }

  StrategySettings settings_;
  std::vector<int> counts_;
  std::vector<int> mutable_;  // the choices with more than one value
  std::mt19937_64 rng_;
  std::vector<Proposal> pending_;

 private:
  int next_index_ = 0;
  int first_index_ = 0;
  bool awaiting_ = false;
};

// random: batches of kRandomBatch uniform picks, generation = batch number.
class RandomStrategy final : public StrategyBase {
 public:
  using StrategyBase::StrategyBase;

 private:
  std::vector<Proposal> next_batch() override {
    std::vector<Proposal> batch(kRandomBatch);
    for (Proposal& p : batch) {
      p.pick = random_pick();
      p.generation = batch_;
    }
    return batch;
  }
  void told(const std::vector<Outcome>&) override { ++batch_; }

  int batch_ = 0;
};

// What evolution and NSGA-II share: random picks (generation 0) until `population` of them are
// ok, then one batch of children per generation.
class PopulationStrategy : public StrategyBase {
 public:
  using StrategyBase::StrategyBase;

 protected:
  virtual std::vector<Proposal> children(int generation) = 0;
  virtual void children_told(const std::vector<Member>& ok_children) = 0;

  std::vector<Member> population_;

 private:
  std::vector<Proposal> next_batch() override {
    initial_batch_ = int(population_.size()) < settings_.population;
    if (initial_batch_) {
      std::vector<Proposal> batch(size_t(settings_.population) - population_.size());
      for (Proposal& p : batch) p.pick = random_pick();
      return batch;
    }
    return children(++generation_);
  }

  void told(const std::vector<Outcome>& outcomes) override {
    for (const Outcome& o : outcomes)
      FW_ASSERT(!o.ok || int(o.objectives.size()) == settings_.objectives,
                "an ok outcome carries one value per objective");
    std::vector<Member> ok;
    for (size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].ok) ok.push_back({pending_[i].pick, told_index(i), outcomes[i].objectives});
    if (initial_batch_)
      population_.insert(population_.end(), ok.begin(), ok.end());
    else
      children_told(ok);
  }

  int generation_ = 0;
  bool initial_batch_ = true;
};

// Regularised evolution (Real et al. 2019).
class EvolutionStrategy final : public PopulationStrategy {
 public:
  using PopulationStrategy::PopulationStrategy;

 private:
  std::vector<Proposal> children(int generation) override {
    const int n = int(population_.size());
    std::vector<Proposal> batch(kEvolutionBatch);
    for (Proposal& child : batch) {
      int best = uniform_index(rng_, n);
      for (int t = 1; t < settings_.tournament; ++t) {
        const int c = uniform_index(rng_, n);
        if (lexicographically_better(population_[size_t(c)].objectives,
                                     population_[size_t(best)].objectives))
          best = c;
      }
      const Member& parent = population_[size_t(best)];
      child.pick = parent.pick;
      if (!mutable_.empty()) {
        const int c = mutable_[size_t(uniform_index(rng_, int(mutable_.size())))];
        mutate_choice(child.pick, size_t(c));
      }
      child.parent = parent.index;
      child.generation = generation;
    }
    return batch;
  }

  void children_told(const std::vector<Member>& ok_children) override {
    population_.insert(population_.end(), ok_children.begin(), ok_children.end());
    const size_t extra = population_.size() - size_t(settings_.population);
    population_.erase(population_.begin(), population_.begin() + std::ptrdiff_t(extra));
  }
};

// NSGA-II (Deb et al. 2002).
class Nsga2Strategy final : public PopulationStrategy {
 public:
  using PopulationStrategy::PopulationStrategy;

 private:
  std::vector<Proposal> children(int generation) override {
    const int n = int(population_.size());
    std::vector<ObjectivePoint> pts;
    for (const Member& m : population_) pts.push_back(m.objectives);
    std::vector<int> rank(size_t(n), 0);
    std::vector<double> crowd(size_t(n), 0.0);
    const std::vector<std::vector<int>> fronts = non_dominated_sort(pts);
    for (size_t f = 0; f < fronts.size(); ++f) {
      const std::vector<double> d = crowding_distance(pts, fronts[f]);
      for (size_t i = 0; i < fronts[f].size(); ++i) {
        rank[size_t(fronts[f][i])] = int(f);
        crowd[size_t(fronts[f][i])] = d[i];
      }
    }
    auto tournament = [&]() {
      const int a = uniform_index(rng_, n), b = uniform_index(rng_, n);
      const size_t ua = size_t(a), ub = size_t(b);
      if (rank[ub] < rank[ua] || (rank[ub] == rank[ua] && crowd[ub] > crowd[ua])) return b;
      return a;
    };
    const double mutation = counts_.empty() ? 0.0 : 1.0 / double(counts_.size());
    std::vector<Proposal> batch(size_t(settings_.population));
    for (Proposal& child : batch) {
      const Member& p1 = population_[size_t(tournament())];
      const Member& p2 = population_[size_t(tournament())];
      child.pick = p1.pick;
      if (uniform_real(rng_) < settings_.crossover)
        for (size_t c = 0; c < counts_.size(); ++c)
          if (uniform_index(rng_, 2) == 1) child.pick[c] = p2.pick[c];
      for (int c : mutable_)
        if (uniform_real(rng_) < mutation) mutate_choice(child.pick, size_t(c));
      child.parent = p1.index;
      child.generation = generation;
    }
    return batch;
  }

  void children_told(const std::vector<Member>& ok_children) override {
    std::vector<Member> all = population_;
    all.insert(all.end(), ok_children.begin(), ok_children.end());
    std::vector<ObjectivePoint> pts;
    for (const Member& m : all) pts.push_back(m.objectives);
    const size_t want = size_t(settings_.population);
    std::vector<int> keep;
    for (const std::vector<int>& front : non_dominated_sort(pts)) {
      if (keep.size() + front.size() <= want) {
        keep.insert(keep.end(), front.begin(), front.end());
        if (keep.size() == want) break;
        continue;
      }
      // The last front: by decreasing crowding distance, ties by lower index (older first).
      const std::vector<double> d = crowding_distance(pts, front);
      std::vector<size_t> order(front.size());
      std::iota(order.begin(), order.end(), size_t(0));
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (d[a] != d[b]) return d[a] > d[b];
        return front[a] < front[b];
      });
      for (size_t i = 0; keep.size() < want; ++i) keep.push_back(front[order[i]]);
      break;
    }
    std::sort(keep.begin(), keep.end());  // the population stays in age order
    population_.clear();
    for (int i : keep) population_.push_back(std::move(all[size_t(i)]));
  }
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(const StrategySettings& s,
                                        const std::vector<int>& value_counts) {
  const bool evolution = s.name == "evolution", nsga2 = s.name == "nsga2";
  if (s.name != "random" && !evolution && !nsga2)
    throw UsageError("unknown strategy '" + s.name + "'; use random, evolution or nsga2");
  if (evolution || nsga2) {
    if (s.population < 2)
      throw UsageError("--population must be at least 2, got " + std::to_string(s.population));
  }
  if (evolution) {
    if (s.tournament < 1 || s.tournament > s.population)
      throw UsageError("--tournament must be between 1 and the population (" +
                       std::to_string(s.population) + "), got " + std::to_string(s.tournament));
    if (s.objectives < 1) throw UsageError("evolution needs an objective");
    return std::make_unique<EvolutionStrategy>(s, value_counts);
  }
  if (nsga2) {
    if (s.objectives < 2 || s.objectives > 3)
      throw UsageError("nsga2 needs 2 or 3 objectives, got " + std::to_string(s.objectives));
    return std::make_unique<Nsga2Strategy>(s, value_counts);
  }
  return std::make_unique<RandomStrategy>(s, value_counts);
}

}  // namespace fw
