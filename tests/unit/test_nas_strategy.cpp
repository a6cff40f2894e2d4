// The ask/tell search strategies (nas/strategy.h): random, regularised evolution, NSGA-II.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "core/error.h"
#include "nas/pareto.h"
#include "nas/strategy.h"

namespace fw {
namespace {

using OutcomeFn = std::function<Outcome(const Pick&, int index)>;

StrategySettings settings(const std::string& name, uint64_t seed, int population = 20,
                          int tournament = 5, int objectives = 1) {
  StrategySettings s;
  s.name = name;
  s.seed = seed;
  s.population = population;
  s.tournament = tournament;
  s.objectives = objectives;
  return s;
}

// Every proposal of `rounds` propose/tell rounds, in proposal order.
std::vector<Proposal> drive(Strategy& st, int rounds, const OutcomeFn& fn) {
  std::vector<Proposal> all;
  for (int r = 0; r < rounds; ++r) {
    const std::vector<Proposal> batch = st.propose();
    std::vector<Outcome> out;
    for (const Proposal& p : batch) {
      out.push_back(fn(p.pick, int(all.size())));
      all.push_back(p);
    }
    st.tell(out);
  }
  return all;
}

Outcome ok(std::vector<double> objectives) { return Outcome{true, std::move(objectives)}; }

// A deterministic function of the pick: about one in five not ok.
Outcome pick_outcome(const Pick& p, int objectives) {
  uint64_t h = 1469598103934665603ull;
  for (int v : p) h = (h ^ uint64_t(v + 1)) * 1099511628211ull;
  if (h % 5 == 0) return Outcome{};
  std::vector<double> o;
  for (int k = 0; k < objectives; ++k) o.push_back(double((h >> (8 * k)) % 97));
  return ok(o);
}

bool same(const std::vector<Proposal>& a, const std::vector<Proposal>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].pick != b[i].pick || a[i].parent != b[i].parent || a[i].generation != b[i].generation)
      return false;
  return true;
}

void expect_in_range(const std::vector<Proposal>& ps, const std::vector<int>& counts) {
  for (const Proposal& p : ps) {
    ASSERT_EQ(p.pick.size(), counts.size());
    for (size_t c = 0; c < counts.size(); ++c) {
      ASSERT_GE(p.pick[c], 0);
      ASSERT_LT(p.pick[c], counts[c]);
    }
  }
}

int differences(const Pick& a, const Pick& b) {
  int d = 0;
  for (size_t c = 0; c < a.size(); ++c) d += a[c] != b[c];
  return d;
}

// uniform_index and uniform_real ------------------------------------------------------------------

TEST(NasStrategy, UniformIndexIsRejectionSampling) {
  std::mt19937_64 rng(123), raw(123);
  for (int n : {1, 2, 3, 7, 8, 1000, 2147483647}) {
    for (int i = 0; i < 200; ++i) {
      // The reference: reject draws below 2^64 mod n, then take the remainder.
      const uint64_t un = uint64_t(n);
      const uint64_t reject_below = (~uint64_t(0) % un + 1) % un;
      uint64_t x = raw();
      while (x < reject_below) x = raw();
      ASSERT_EQ(uniform_index(rng, n), int(x % un)) << "n " << n;
    }
  }
}

TEST(NasStrategy, UniformIndexCountsAreUniform) {
  std::mt19937_64 rng(9);
  const int n = 10, draws = 100000;
  std::vector<int> count(n, 0);
  for (int i = 0; i < draws; ++i) {
    const int v = uniform_index(rng, n);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, n);
    ++count[size_t(v)];
  }
  double chi2 = 0;
  for (int c : count) chi2 += (c - draws / n) * double(c - draws / n) / (draws / n);
  EXPECT_LT(chi2, 40.0);  // 9 degrees of freedom: 40 is far beyond p = 1e-5
}

TEST(NasStrategy, UniformRealTakes53Bits) {
  std::mt19937_64 rng(77), raw(77);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform_real(rng);
    ASSERT_EQ(u, double(raw() >> 11) / 9007199254740992.0);  // 2^53
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

// make_strategy
// ------------------------------------------------------------------------------------

TEST(NasStrategy, MakeStrategyErrors) {
  const std::vector<int> counts = {3, 2};
  try {
    make_strategy(settings("x", 0), counts);
    FAIL() << "no error for an unknown strategy";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unknown strategy 'x'; use random, evolution or nsga2");
  }
  EXPECT_THROW(make_strategy(settings("evolution", 0, 1, 1), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("nsga2", 0, 1, 1, 2), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("evolution", 0, 10, 0), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("evolution", 0, 10, 11), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("evolution", 0, 10, 5, 0), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("nsga2", 0, 10, 5, 1), counts), UsageError);
  EXPECT_THROW(make_strategy(settings("nsga2", 0, 10, 5, 4), counts), UsageError);
  // The valid edges.
  EXPECT_NO_THROW(make_strategy(settings("evolution", 0, 2, 2), counts));
  EXPECT_NO_THROW(make_strategy(settings("evolution", 0, 10, 1, 3), counts));
  EXPECT_NO_THROW(make_strategy(settings("nsga2", 0, 2, 5, 2), counts));
  EXPECT_NO_THROW(make_strategy(settings("nsga2", 0, 10, 5, 3), counts));
  EXPECT_NO_THROW(make_strategy(settings("random", 0), counts));
}

// Determinism
// --------------------------------------------------------------------------------------

TEST(NasStrategy, SameSeedSameProposalsOtherSeedOthers) {
  const std::vector<int> counts = {4, 3, 5, 2, 6};
  for (const char* name : {"random", "evolution", "nsga2"}) {
    const int objectives = std::string(name) == "nsga2" ? 2 : 1;
    const OutcomeFn fn = [&](const Pick& p, int) { return pick_outcome(p, objectives); };
    auto run = [&](uint64_t seed) {
      StrategySettings s = settings(name, seed, 12, 3, objectives);
      auto st = make_strategy(s, counts);
      return drive(*st, 40, fn);
    };
    const std::vector<Proposal> a = run(42), b = run(42), c = run(43);
    EXPECT_GT(a.size(), 300u) << name;
    EXPECT_TRUE(same(a, b)) << name;
    EXPECT_FALSE(same(a, c)) << name;
    expect_in_range(a, counts);
    expect_in_range(c, counts);
  }
}

// random ------------------------------------------------------------------------------------------

TEST(NasStrategy, RandomBatchesAreUniformAndNumbered) {
  const std::vector<int> counts = {2, 3, 5, 7, 1};
  auto st = make_strategy(settings("random", 5), counts);
  const int batches = 1000;
  std::vector<std::vector<int>> hist(counts.size());
  for (size_t c = 0; c < counts.size(); ++c) hist[c].assign(size_t(counts[c]), 0);
  for (int b = 0; b < batches; ++b) {
    const std::vector<Proposal> batch = st->propose();
    ASSERT_EQ(batch.size(), size_t(kRandomBatch));
    expect_in_range(batch, counts);
    for (const Proposal& p : batch) {
      EXPECT_EQ(p.parent, -1);
      EXPECT_EQ(p.generation, b);
      for (size_t c = 0; c < counts.size(); ++c) ++hist[c][size_t(p.pick[c])];
    }
    st->tell(std::vector<Outcome>(batch.size()));  // not ok: random does not care
  }
  const double draws = double(batches * kRandomBatch);
  for (size_t c = 0; c < counts.size(); ++c) {
    const double expect = draws / counts[c];
    double chi2 = 0;
    for (int h : hist[c]) chi2 += (h - expect) * (h - expect) / expect;
    // At most 6 degrees of freedom: 40 is far beyond p = 1e-6.
    EXPECT_LT(chi2, 40.0) << "choice " << c;
    for (int h : hist[c]) EXPECT_GT(h, 0);
  }
}

// evolution ---------------------------------------------------------------------------------------

TEST(NasStrategy, EvolutionFillsItsPopulationDespiteNotOkPicks) {
  const std::vector<int> counts = {3, 4};
  auto st = make_strategy(settings("evolution", 1, 6, 2), counts);
  int next = 0;
  std::set<int> ok_indices;
  // (ok pattern per proposal of each initial batch, expected batch size)
  const std::vector<std::pair<std::vector<bool>, size_t>> rounds = {
      {{true, false, true, false, true, false}, 6},
      {{false, false, false}, 3},
      {{false, true, false}, 3},
      {{true, true}, 2}};
  for (const auto& [pattern, size] : rounds) {
    const std::vector<Proposal> batch = st->propose();
    ASSERT_EQ(batch.size(), size);
    std::vector<Outcome> out;
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(batch[i].parent, -1);
      EXPECT_EQ(batch[i].generation, 0);
      out.push_back(pattern[i] ? ok({double(next)}) : Outcome{});
      if (pattern[i]) ok_indices.insert(next);
      ++next;
    }
    st->tell(out);
  }
  ASSERT_EQ(ok_indices.size(), 6u);
  const std::vector<Proposal> children = st->propose();
  ASSERT_EQ(children.size(), size_t(kEvolutionBatch));
  for (const Proposal& c : children) {
    EXPECT_EQ(c.generation, 1);
    EXPECT_TRUE(ok_indices.count(c.parent)) << c.parent;
  }
}

TEST(NasStrategy, EvolutionKeepsPopulationAndDropsOldest) {
  // Tournament of one: the parent is a uniformly drawn member, so over many children every
  // member, by age, is a parent now and then, and nothing outside the population ever is.
  const int population = 5;
  const std::vector<int> counts = {4, 4, 4};
  auto st = make_strategy(settings("evolution", 3, population, 1), counts);
  std::deque<int> model;  // proposal indices of the members, oldest first
  std::vector<int> by_age(population, 0);
  int next = 0, children = 0;
  for (int round = 0; round < 80; ++round) {
    const std::vector<Proposal> batch = st->propose();
    std::vector<Outcome> out;
    for (const Proposal& p : batch) {
      const bool is_child = p.parent >= 0;
      if (is_child) {
        const auto it = std::find(model.begin(), model.end(), p.parent);
        ASSERT_NE(it, model.end()) << "parent " << p.parent << " is not a member";
        ++by_age[size_t(it - model.begin())];
        ++children;
      }
      // Every third child is not ok; the initial picks are all ok.
      out.push_back(is_child && next % 3 == 0 ? Outcome{} : ok({double(next % 11)}));
      ++next;
    }
    st->tell(out);
    for (size_t i = 0; i < batch.size(); ++i)
      if (out[i].ok) model.push_back(next - int(batch.size()) + int(i));
    while (int(model.size()) > population) model.pop_front();
  }
  EXPECT_EQ(children, 79 * kEvolutionBatch);
  for (int a = 0; a < population; ++a) EXPECT_GT(by_age[size_t(a)], 50) << "age rank " << a;
}

// Runs evolution with all outcomes ok and objectives from `objectives_of` (by proposal index);
// returns how often the parent was the best, second best, ... member (by the header's order:
// the first objective, then the later ones).
std::vector<int> parent_ranks(int population, int tournament,
                              const std::function<std::vector<double>(int)>& objectives_of,
                              int objectives) {
  auto st = make_strategy(settings("evolution", 17, population, tournament, objectives), {6, 6});
  std::deque<int> model;
  std::vector<int> ranks(size_t(population), 0);
  int next = 0;
  for (int round = 0; round < 100; ++round) {
    const std::vector<Proposal> batch = st->propose();
    std::vector<int> order(model.begin(), model.end());
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return objectives_of(a) < objectives_of(b); });
    std::vector<Outcome> out;
    for (const Proposal& p : batch) {
      if (p.parent >= 0) {
        const auto it = std::find(order.begin(), order.end(), p.parent);
        EXPECT_NE(it, order.end());
        if (it != order.end()) ++ranks[size_t(it - order.begin())];
      }
      out.push_back(ok(objectives_of(next++)));
    }
    st->tell(out);
    for (size_t i = 0; i < batch.size(); ++i) model.push_back(next - int(batch.size()) + int(i));
    while (int(model.size()) > population) model.pop_front();
  }
  return ranks;
}

TEST(NasStrategy, EvolutionParentIsTheTournamentWinner) {
  // A tournament of S = P = 10 draws with replacement: the winner is the best drawn, so the
  // parent is the best member with probability 1 - 0.9^10 = 0.65, the second best with
  // 0.9^10 - 0.8^10 = 0.24, and one of the worst five with 0.5^10 = 0.001.
  auto distinct = [](int i) { return std::vector<double>{double((i * 37) % 101)}; };
  for (int variant = 0; variant < 2; ++variant) {
    // Variant 1: the first objective ties everywhere; the second decides.
    auto objectives_of = [&](int i) {
      return variant == 0 ? distinct(i) : std::vector<double>{1.0, distinct(i)[0]};
    };
    const std::vector<int> r = parent_ranks(10, 10, objectives_of, variant + 1);
    int total = 0;
    for (int v : r) total += v;
    ASSERT_EQ(total, 99 * kEvolutionBatch);
    EXPECT_GT(r[0], total * 55 / 100) << "variant " << variant;
    EXPECT_LT(r[0], total * 75 / 100) << "variant " << variant;
    EXPECT_GT(r[1], total * 15 / 100) << "variant " << variant;
    int worst_half = 0;
    for (size_t k = 5; k < r.size(); ++k) worst_half += r[k];
    EXPECT_LT(worst_half, total * 2 / 100) << "variant " << variant;
  }
  // The first objective decides before the second.
  auto first_decides = [](int i) {
    return std::vector<double>{double((i * 37) % 101), double(-((i * 37) % 101))};
  };
  const std::vector<int> r = parent_ranks(10, 10, first_decides, 2);
  EXPECT_GT(r[0], 99 * kEvolutionBatch * 55 / 100);
}

TEST(NasStrategy, EvolutionChildDiffersFromParentInExactlyOneChoice) {
  const std::vector<int> counts = {1, 2, 5, 1, 3};
  auto st = make_strategy(settings("evolution", 8, 8, 3), counts);
  const std::vector<Proposal> all =
      drive(*st, 60, [](const Pick& p, int) { return ok({double(p[2] + p[4])}); });
  expect_in_range(all, counts);
  int children = 0;
  std::vector<int> changed(counts.size(), 0);
  for (const Proposal& p : all) {
    if (p.parent < 0) continue;
    ++children;
    ASSERT_LT(p.parent, int(all.size()));
    const Pick& parent = all[size_t(p.parent)].pick;
    ASSERT_EQ(differences(p.pick, parent), 1);
    for (size_t c = 0; c < counts.size(); ++c) changed[c] += p.pick[c] != parent[c];
  }
  EXPECT_EQ(children, 59 * kEvolutionBatch);
  EXPECT_EQ(changed[0], 0);
  EXPECT_EQ(changed[3], 0);
  // The mutated choice is uniform among the three with several values.
  for (size_t c : {1u, 2u, 4u}) EXPECT_GT(changed[c], children / 5) << "choice " << c;
}

TEST(NasStrategy, NotOkChildrenNeverBecomeParents) {
  // A not-ok child carries objective values better than anything: had it joined the
  // population it would win almost every tournament.
  for (const char* name : {"evolution", "nsga2"}) {
    const int objectives = std::string(name) == "nsga2" ? 2 : 1;
    auto st = make_strategy(settings(name, 4, 6, 6, objectives), {5, 5, 5});
    std::set<int> not_ok;
    const std::vector<Proposal> all = drive(*st, 30, [&](const Pick& p, int index) {
      Outcome o;
      if (index >= 6 && index % 2 == 0) {
        o.ok = false;
        o.objectives.assign(size_t(objectives), -1e9);
        not_ok.insert(index);
        return o;
      }
      o.ok = true;
      for (int k = 0; k < objectives; ++k) o.objectives.push_back(double(p[size_t(k)]));
      return o;
    });
    EXPECT_GT(not_ok.size(), 50u);
    for (const Proposal& p : all) EXPECT_FALSE(not_ok.count(p.parent)) << name << " " << p.parent;
  }
}

TEST(NasStrategy, OneSubnetSpaceDoesNotLoop) {
  for (const char* name : {"random", "evolution", "nsga2"}) {
    const int objectives = std::string(name) == "nsga2" ? 2 : 1;
    for (const std::vector<int>& counts : {std::vector<int>{1, 1, 1}, std::vector<int>{}}) {
      auto st = make_strategy(settings(name, 2, 4, 2, objectives), counts);
      const std::vector<Proposal> all = drive(*st, 10, [&](const Pick&, int) {
        return ok(std::vector<double>(size_t(objectives), 1.0));
      });
      EXPECT_GT(all.size(), 10u) << name;
      for (const Proposal& p : all) EXPECT_EQ(p.pick, Pick(counts.size(), 0)) << name;
    }
  }
  // Never an ok outcome: the initial population never fills; batches keep coming.
  auto st = make_strategy(settings("evolution", 2, 4, 2), {1, 1});
  const std::vector<Proposal> all = drive(*st, 10, [](const Pick&, int) { return Outcome{}; });
  EXPECT_EQ(all.size(), 40u);
}

// nsga2 -------------------------------------------------------------------------------------------

TEST(NasStrategy, Nsga2GenerationsAndParents) {
  const std::vector<int> counts = {3, 2, 4, 5};
  const int population = 10;
  auto st = make_strategy(settings("nsga2", 6, population, 2, 2), counts);
  // Initial batch: half not ok, so a second initial batch follows.
  std::vector<Proposal> batch = st->propose();
  ASSERT_EQ(batch.size(), size_t(population));
  std::vector<Outcome> out;
  std::set<int> ok_so_far;
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].generation, 0);
    EXPECT_EQ(batch[i].parent, -1);
    out.push_back(i % 2 ? Outcome{} : ok({double(i), double(10 - i)}));
    if (i % 2 == 0) ok_so_far.insert(int(i));
  }
  st->tell(out);
  batch = st->propose();
  ASSERT_EQ(batch.size(), size_t(population / 2));
  out.clear();
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].generation, 0);
    out.push_back(ok({double(i) + 0.5, double(5 - i)}));
    ok_so_far.insert(population + int(i));
  }
  st->tell(out);
  int next = population + population / 2;
  for (int g = 1; g <= 12; ++g) {
    batch = st->propose();
    ASSERT_EQ(batch.size(), size_t(population));
    expect_in_range(batch, counts);
    out.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(batch[i].generation, g);
      EXPECT_GE(batch[i].parent, 0);
      EXPECT_LT(batch[i].parent, next) << "a parent from an earlier batch";
      EXPECT_TRUE(ok_so_far.count(batch[i].parent));
      const Pick& p = batch[i].pick;
      const bool good = (p[0] + p[3]) % 4 != 1;
      out.push_back(good ? ok({double(p[0] + p[2]), double(p[1] + p[3])}) : Outcome{});
      if (good) ok_so_far.insert(next + int(i));
    }
    next += int(batch.size());
    st->tell(out);
  }
}

// Runs NSGA-II on a fixed population (every child is not ok, so the population never changes)
// and returns how often each initial member was the first parent.
std::vector<int> nsga2_parent_counts(const std::vector<std::vector<double>>& objectives,
                                     int generations) {
  const int population = int(objectives.size());
  auto st = make_strategy(settings("nsga2", 12, population, 2, 2), {5, 5});
  std::vector<int> counts(size_t(population), 0);
  for (int g = 0; g <= generations; ++g) {
    const std::vector<Proposal> batch = st->propose();
    std::vector<Outcome> out;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (g == 0) {
        out.push_back(ok(objectives[i]));
        continue;
      }
      EXPECT_GE(batch[i].parent, 0);
      EXPECT_LT(batch[i].parent, population) << "only the initial members are ever parents";
      if (batch[i].parent >= 0 && batch[i].parent < population) ++counts[size_t(batch[i].parent)];
      out.push_back(Outcome{});
    }
    st->tell(out);
  }
  return counts;
}

TEST(NasStrategy, Nsga2TournamentPrefersLowerRank) {
  // A chain: member i is (i, i), so it is alone on front i. The first parent wins a binary
  // tournament of two uniform draws: rank r with probability (2 (10 - r) - 1) / 100, a mean rank
  // of (19 * 45 - 2 * 285) / 100 = 2.85 (uniform: 4.5; the worse rank winning: 6.15).
  std::vector<std::vector<double>> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({double(i), double(i)});
  const std::vector<int> counts = nsga2_parent_counts(chain, 40);
  double total = 0, rank_sum = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    total += counts[r];
    rank_sum += double(r) * counts[r];
  }
  ASSERT_EQ(total, 400);
  EXPECT_LT(rank_sum / total, 3.5);
  EXPECT_GT(rank_sum / total, 2.2);
  EXPECT_GT(counts[0], 50);  // expected 76
  EXPECT_LT(counts[9], 15);  // expected 4
}

TEST(NasStrategy, Nsga2TournamentPrefersLargerCrowdingDistance) {
  // One front (f2 = 30 - f1), unevenly spread: the two extremes have infinite crowding distance
  // and win every tournament they enter: one of them is the first parent with probability
  // 1 - 0.8^2 = 0.36 (uniform: 0.2; the smaller distance winning: 0.04). Among the inner points,
  // those in the wide gaps (f1 = 3, 10, 20) beat those packed together (f1 = 1, 2, 21, 22).
  const std::vector<double> f1 = {0, 1, 2, 3, 10, 20, 21, 22, 23, 30};
  std::vector<std::vector<double>> front;
  for (double v : f1) front.push_back({v, 30 - v});
  const std::vector<int> counts = nsga2_parent_counts(front, 40);
  const int extremes = counts[0] + counts[9];
  EXPECT_GT(extremes, 400 * 25 / 100);
  EXPECT_LT(extremes, 400 * 45 / 100);
  EXPECT_GT(counts[3] + counts[4] + counts[5], counts[1] + counts[2] + counts[6] + counts[7]);
}

TEST(NasStrategy, Nsga2KeepsTheLastFrontByDecreasingCrowdingDistance) {
  // Population 4 on the front f2 = 30 - f1 with f1 = 0, 10, 11, 30 (proposals 0..3); the first
  // children (4..7) have f1 = 5, 6, 7, 25. All eight form one front; sorted by f1: 0 5 6 7 10 11
  // 25 30, distances (range 30 on both objectives, 2 (next - previous) / 30): 5: 12/30,
  // 6: 4/30, 7: 8/30, 10: 8/30, 11: 30/30, 25: 38/30; the ends infinity. Kept: f1 = 0 and 30
  // (proposals 0, 3), then 25 (proposal 7) and 11 (proposal 2).
  const std::vector<double> f1 = {0, 10, 11, 30, 5, 6, 7, 25};
  auto st = make_strategy(settings("nsga2", 21, 4, 2, 2), {6, 6, 6});
  std::set<int> parents;
  int next = 0;
  for (int g = 0; g <= 40; ++g) {
    const std::vector<Proposal> batch = st->propose();
    ASSERT_EQ(batch.size(), 4u);
    std::vector<Outcome> out;
    for (const Proposal& p : batch) {
      if (g >= 2) parents.insert(p.parent);
      // After the first children, none is ok: the population stays as selected.
      out.push_back(next < 8 ? ok({f1[size_t(next)], 30 - f1[size_t(next)]}) : Outcome{});
      ++next;
    }
    st->tell(out);
  }
  EXPECT_EQ(parents, (std::set<int>{0, 2, 3, 7}));
}

// Children of NSGA-II from a fixed random population of 10 (every child is not ok).
std::vector<Proposal> nsga2_fixed_population_children(double crossover,
                                                      const std::vector<int>& counts) {
  StrategySettings s = settings("nsga2", 99, 10, 2, 2);
  s.crossover = crossover;
  auto st = make_strategy(s, counts);
  std::vector<Proposal> all = drive(*st, 41, [](const Pick&, int index) {
    return index < 10 ? ok({double(index), double(10 - index)}) : Outcome{};
  });
  return all;
}

TEST(NasStrategy, Nsga2CrossoverMixesParents) {
  // Six choices of 8 values. Mutation alone changes 6 * 1/6 = 1 choice per child on average;
  // a uniform crossover takes each choice from the second parent with probability 1/2, which
  // differs from the first in most choices (7/8 for two random picks), so ~2.5 more.
  const std::vector<int> counts(6, 8);
  std::vector<double> mean_changed;
  for (double crossover : {0.0, 0.5, 1.0}) {
    const std::vector<Proposal> all = nsga2_fixed_population_children(crossover, counts);
    expect_in_range(all, counts);
    double changed = 0, children = 0;
    for (const Proposal& p : all) {
      if (p.parent < 0) continue;
      ASSERT_LT(p.parent, 10);
      changed += differences(p.pick, all[size_t(p.parent)].pick);
      ++children;
    }
    ASSERT_EQ(children, 400);
    mean_changed.push_back(changed / children);
  }
  EXPECT_GT(mean_changed[0], 0.75);
  EXPECT_LT(mean_changed[0], 1.25);
  EXPECT_GT(mean_changed[1], mean_changed[0] + 0.5);
  EXPECT_GT(mean_changed[2], mean_changed[1] + 0.5);
  EXPECT_GT(mean_changed[2], 2.5);
}

// Toy problem: x = choice 0 (0..15), g = the sum of choices 1..5 (0..3 each).
// f1 = x / 15, f2 = 1 - x / 15 + g. The true front is g = 0: (t, 1 - t) for the 16 values of x.
std::vector<double> toy_objectives(const Pick& p) {
  int g = 0;
  for (size_t c = 1; c < p.size(); ++c) g += p[c];
  const double t = p[0] / 15.0;
  return {t, 1 - t + g};
}

int toy_g(const Pick& p) {
  int g = 0;
  for (size_t c = 1; c < p.size(); ++c) g += p[c];
  return g;
}

TEST(NasStrategy, Nsga2ConvergesToTheKnownFront) {
  const std::vector<int> counts = {16, 4, 4, 4, 4, 4};
  const int population = 20, generations = 25;
  auto st = make_strategy(settings("nsga2", 2024, population, 2, 2), counts);
  const std::vector<Proposal> all =
      drive(*st, generations + 1, [](const Pick& p, int) { return ok(toy_objectives(p)); });
  ASSERT_EQ(all.size(), size_t((generations + 1) * population));
  expect_in_range(all, counts);
  double initial_g = 0, last_g = 0;
  for (int i = 0; i < population; ++i) {
    initial_g += toy_g(all[size_t(i)].pick) / double(population);
    last_g += toy_g(all[all.size() - 1 - size_t(i)].pick) / double(population);
  }
  // A random pick has g = 7.5 on average; the last generation's children are near the front.
  EXPECT_GT(initial_g, 5.0);
  EXPECT_LT(last_g, 1.5);
  // Everything found that is non-dominated lies on the true front, and spreads along it.
  std::vector<ObjectivePoint> pts;
  for (const Proposal& p : all) pts.push_back(toy_objectives(p.pick));
  std::set<int> xs_on_front;
  const std::vector<bool> mask = pareto_mask(pts);
  for (size_t i = 0; i < all.size(); ++i) {
    if (!mask[i]) continue;
    EXPECT_EQ(toy_g(all[i].pick), 0);
    xs_on_front.insert(all[i].pick[0]);
  }
  EXPECT_GE(xs_on_front.size(), 10u);
  // The initial random population alone is nowhere near it.
  int initial_on_front = 0;
  for (int i = 0; i < population; ++i) initial_on_front += toy_g(all[size_t(i)].pick) == 0;
  EXPECT_LE(initial_on_front, 1);
}

TEST(NasStrategy, Nsga2MutationAndCrossoverStayInRange) {
  const std::vector<int> counts = {2, 1, 7, 3, 1, 9};
  for (double crossover : {0.0, 0.5, 1.0}) {
    StrategySettings s = settings("nsga2", 31, 16, 2, 3);
    s.crossover = crossover;
    auto st = make_strategy(s, counts);
    const std::vector<Proposal> all = drive(*st, 30, [](const Pick& p, int) {
      return ok({double(p[0] * p[2]), double(p[3] - p[5]), double(p[2] + p[5])});
    });
    expect_in_range(all, counts);
    int changed = 0, children = 0, mutated = 0;
    for (const Proposal& p : all) {
      EXPECT_EQ(p.pick[1], 0);
      EXPECT_EQ(p.pick[4], 0);
      if (p.parent < 0) continue;
      ++children;
      changed += p.pick != all[size_t(p.parent)].pick;
      mutated += differences(p.pick, all[size_t(p.parent)].pick);
    }
    EXPECT_EQ(children, 29 * 16);
    EXPECT_GT(changed, 100) << "crossover " << crossover;
    if (crossover == 0.0) {
      // A copy of the first parent, then each of the 4 choices with several values mutated with
      // probability 1/6 (six choices): 2/3 of a choice changed per child on average.
      EXPECT_GT(mutated, children * 55 / 100);
      EXPECT_LT(mutated, children * 80 / 100);
    }
  }
}

}  // namespace
}  // namespace fw
