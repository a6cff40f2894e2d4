#include "views/layout.h"

#include <algorithm>
#include <climits>
#include <map>
#include <numeric>
#include <unordered_map>

namespace fw::views {

namespace {

// Places items of one column in order as close as possible (least squares) to their desired
// centres, keeping `sep[i]` between the centres of items i and i+1 (pool-adjacent-violators).
std::vector<float> place_column(const std::vector<float>& desired, const std::vector<float>& sep) {
  const size_t n = desired.size();
  std::vector<float> offset(n, 0);  // centre of item i relative to item 0, when packed tightly
  for (size_t i = 1; i < n; ++i) offset[i] = offset[i - 1] + sep[i - 1];
  struct Block {
    size_t first, last;
    double sum;  // sum of (desired - offset) over the block
    double pos() const { return sum / double(last - first + 1); }
  };
  std::vector<Block> blocks;
  for (size_t i = 0; i < n; ++i) {
    blocks.push_back({i, i, double(desired[i] - offset[i])});
    // Merge while the new block would overlap the previous one.
    while (blocks.size() > 1) {
      Block& b = blocks.back();
      Block& a = blocks[blocks.size() - 2];
      if (b.pos() >= a.pos()) break;
      a.last = b.last;
      a.sum += b.sum;
      blocks.pop_back();
    }
  }
  std::vector<float> out(n);
  for (const Block& b : blocks)
    for (size_t i = b.first; i <= b.last; ++i) out[i] = static_cast<float>(b.pos()) + offset[i];
  return out;
}

}  // namespace

std::vector<Placement> layout_level(const Graph& g, NodeId container, const SizeFn& size,
                                    const LayoutOptions& opts) {
  const std::vector<NodeId>& kids = g.children(container);
  const size_t n = kids.size();
  if (n == 0) return {};
  std::unordered_map<NodeId, int> index;
  index.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) index[kids[i]] = static_cast<int>(i);

  // Sibling edges, producer -> consumer (duplicates kept: they weigh the barycentres).
  std::vector<std::vector<int>> preds(n), succs(n);
  for (size_t i = 0; i < n; ++i)
    for (const PortRef& r : g.node(kids[i]).inputs) {
      if (!r.connected() || r.group_input) continue;
      auto it = index.find(r.node);
      if (it == index.end() || it->second == static_cast<int>(i)) continue;
      preds[i].push_back(it->second);
      succs[it->second].push_back(static_cast<int>(i));
    }

  // Topological order (Kahn, stable in children order); nodes on cycles follow in children
  // order, their edges from unplaced nodes ignored.
  std::vector<int> indeg(n, 0), order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i) indeg[i] = static_cast<int>(preds[i].size());
  std::vector<char> done(n, 0);
  {
    std::vector<int> ready;
    for (size_t i = n; i-- > 0;)
      if (indeg[i] == 0) ready.push_back(static_cast<int>(i));
    while (!ready.empty()) {
      const int v = ready.back();
      ready.pop_back();
      order.push_back(v);
      done[v] = 1;
      // Push consumers in reverse so the first one in children order comes out first.
      std::vector<int> next;
      for (int s : succs[v])
        if (--indeg[s] == 0) next.push_back(s);
      std::sort(next.rbegin(), next.rend());
      for (int s : next) ready.push_back(s);
    }
    for (size_t i = 0; i < n; ++i)
      if (!done[i]) order.push_back(static_cast<int>(i));
  }
  std::vector<int> pos_in_order(n);
  for (size_t k = 0; k < n; ++k) pos_in_order[order[k]] = static_cast<int>(k);

  // Longest-path layers; a back edge (from later in the order) is ignored.
  std::vector<int> layer(n, 0);
  for (int v : order)
    for (int p : preds[v])
      if (pos_in_order[p] < pos_in_order[v]) layer[v] = std::max(layer[v], layer[p] + 1);
  // Sources that feed only later nodes sit just left of their first consumer.
  for (size_t i = 0; i < n; ++i) {
    if (!preds[i].empty() || succs[i].empty()) continue;
    int first = INT32_MAX;
    for (int s : succs[i]) first = std::min(first, layer[s]);
    layer[i] = std::max(layer[i], first - 1);
  }
  const int layers = *std::max_element(layer.begin(), layer.end()) + 1;

  // Columns, initially in topological order.
  std::vector<std::vector<int>> cols(layers);
  for (int v : order) cols[layer[v]].push_back(v);
  std::vector<float> rank(n, 0);  // position within the column
  auto renumber = [&](int l) {
    for (size_t k = 0; k < cols[l].size(); ++k) rank[cols[l][k]] = static_cast<float>(k);
  };
  for (int l = 0; l < layers; ++l) renumber(l);
  // Barycentre sweeps: left to right by producers, right to left by consumers.
  auto sweep = [&](int l, const std::vector<std::vector<int>>& nbrs) {
    std::vector<std::pair<float, int>> keyed;
    keyed.reserve(cols[l].size());
    for (int v : cols[l]) {
      float sum = 0;
      int cnt = 0;
      for (int u : nbrs[v]) {
        sum += rank[u];
        ++cnt;
      }
      keyed.push_back({cnt ? sum / static_cast<float>(cnt) : rank[v], v});
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t k = 0; k < keyed.size(); ++k) cols[l][k] = keyed[k].second;
    renumber(l);
  };
  for (int iter = 0; iter < 4; ++iter) {
    for (int l = 1; l < layers; ++l) sweep(l, preds);
    for (int l = layers - 2; l >= 0; --l) sweep(l, succs);
  }

  // Sizes, column x positions.
  std::vector<BoxSize> box(n);
  for (size_t i = 0; i < n; ++i) box[i] = size(g.node(kids[i]));
  std::vector<float> col_x(layers, 0), col_w(layers, 0);
  for (size_t i = 0; i < n; ++i) col_w[layer[i]] = std::max(col_w[layer[i]], box[i].w);
  for (int l = 1; l < layers; ++l) col_x[l] = col_x[l - 1] + col_w[l - 1] + opts.layer_gap;

  // Vertical centres: stacked, then pulled towards neighbours' mean a few times.
  std::vector<float> cy(n, 0);
  auto sep_of = [&](int l) {
    std::vector<float> sep;
    for (size_t k = 1; k < cols[l].size(); ++k)
      sep.push_back((box[cols[l][k - 1]].h + box[cols[l][k]].h) * 0.5f + opts.node_gap);
    return sep;
  };
  for (int l = 0; l < layers; ++l) {
    const std::vector<float> sep = sep_of(l);
    float total = 0;
    for (float s : sep) total += s;
    float y = -total * 0.5f;
    for (size_t k = 0; k < cols[l].size(); ++k) {
      cy[cols[l][k]] = y;
      if (k < sep.size()) y += sep[k];
    }
  }
  auto align = [&](int l, const std::vector<std::vector<int>>& nbrs) {
    std::vector<float> desired;
    desired.reserve(cols[l].size());
    for (int v : cols[l]) {
      float sum = 0;
      int cnt = 0;
      for (int u : nbrs[v]) {
        sum += cy[u];
        ++cnt;
      }
      desired.push_back(cnt ? sum / static_cast<float>(cnt) : cy[v]);
    }
    const std::vector<float> placed = place_column(desired, sep_of(l));
    for (size_t k = 0; k < cols[l].size(); ++k) cy[cols[l][k]] = placed[k];
  };
  for (int iter = 0; iter < 3; ++iter) {
    for (int l = 1; l < layers; ++l) align(l, preds);
    for (int l = layers - 2; l >= 0; --l) align(l, succs);
  }
  for (int l = 1; l < layers; ++l) align(l, preds);

  // Top-left corners, shifted so the bounding box starts at (0, 0).
  std::vector<Placement> out(n);
  float min_y = 0;
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    const float top = cy[i] - box[i].h * 0.5f;
    min_y = first ? top : std::min(min_y, top);
    first = false;
  }
  for (size_t i = 0; i < n; ++i) {
    const int l = layer[i];
    out[i] = {kids[i], col_x[l] + (col_w[l] - box[i].w) * 0.5f, cy[i] - box[i].h * 0.5f - min_y};
  }
  return out;
}

bool level_needs_layout(const Graph& g, NodeId container) {
  const std::vector<NodeId>& kids = g.children(container);
  if (kids.size() < 2) return false;
  std::map<std::pair<float, float>, int> seen;
  for (NodeId id : kids) {
    const Node& n = g.node(id);
    if (++seen[{n.x, n.y}] > 1) return true;
  }
  return false;
}

std::vector<Placement> layout_unplaced(const Graph& g, NodeId root, const SizeFn& size,
                                       const LayoutOptions& opts) {
  std::vector<Placement> out;
  std::vector<NodeId> stack = {root};
  while (!stack.empty()) {
    const NodeId c = stack.back();
    stack.pop_back();
    if (level_needs_layout(g, c)) {
      std::vector<Placement> p = layout_level(g, c, size, opts);
      out.insert(out.end(), p.begin(), p.end());
    }
    for (NodeId k : g.children(c))
      if (!g.node(k).children.empty()) stack.push_back(k);
  }
  return out;
}

void apply_placements(Graph& g, const std::vector<Placement>& where) {
  for (const Placement& p : where) g.move(p.id, p.x, p.y);
}

}  // namespace fw::views
