/**
 * A layered drawing of a small directed acyclic graph (a Keras model's layers), top to
 * bottom, as Sugiyama's method does it in its simplest form:
 *   1. ranks by longest path from the sources (every edge points down);
 *   2. an edge over several ranks gets a chain of dummy points, one per rank it crosses;
 *   3. each rank is ordered by the barycentre of its neighbours in the rank above, then
 *      below, sweeping a few times and keeping the order with the fewest crossings;
 *   4. each node is moved towards the mean position of its neighbours, ranks kept apart.
 * Keras models have tens to hundreds of layers, so quadratic steps are fine here.
 * Nodes are boxes of any size (a nested model is a box holding its own drawing).
 */

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface PlacedNode extends LayoutNode {
  /** Top-left corner. */
  x: number;
  y: number;
  rank: number;
}

export interface Layout {
  nodes: Map<string, PlacedNode>;
  /** One polyline per edge, in the order given: from the source's bottom to the target's top. */
  routes: { x: number; y: number }[][];
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Space between neighbouring boxes in a rank. */
  gapX: number;
  /** Space between ranks (edges and their labels live there). */
  gapY: number;
  /** Width of the lane a dummy point (an edge passing a rank) takes. */
  laneWidth: number;
  /** One node per rank, in the given order (nodes whose connections are unknown). */
  stacked: boolean;
}

const DEFAULTS: LayoutOptions = { gapX: 24, gapY: 48, laneWidth: 16, stacked: false };

interface Item {
  id: string;
  width: number;
  height: number;
  dummy: boolean;
  up: Item[];
  down: Item[];
  x: number;
}

/**
 * Lays out `nodes` (given in an order where every edge's source comes before its target,
 * as Keras' call order is) and `edges`. An edge against that order, or from a node to
 * itself, is drawn straight and takes no part in ranking.
 */
export function layeredLayout(nodes: LayoutNode[], edges: LayoutEdge[], options: Partial<LayoutOptions> = {}): Layout {
  const opt = { ...DEFAULTS, ...options };
  const index = new Map(nodes.map((n, k) => [n.id, k]));
  const forward = (e: LayoutEdge) => index.has(e.from) && index.has(e.to) && index.get(e.from)! < index.get(e.to)!;

  // 1. Ranks: longest path from the sources, in the given order.
  const rank = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  const incoming = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (forward(e)) incoming.get(e.to)!.push(e.from);
  for (const n of nodes) for (const from of incoming.get(n.id)!) rank.set(n.id, Math.max(rank.get(n.id)!, rank.get(from)! + 1));
  if (opt.stacked) nodes.forEach((n, k) => rank.set(n.id, k));
  const ranks = Math.max(0, ...rank.values()) + 1;

  // 2. Items per rank, with dummies for the long edges.
  const items = new Map<string, Item>();
  const byRank: Item[][] = Array.from({ length: ranks }, () => []);
  for (const n of nodes) {
    const item: Item = { id: n.id, width: n.width, height: n.height, dummy: false, up: [], down: [], x: 0 };
    items.set(n.id, item);
    byRank[rank.get(n.id)!].push(item);
  }
  const chains: Item[][] = edges.map((e) => {
    if (!forward(e)) return [];
    let prev = items.get(e.from)!;
    const chain = [prev];
    for (let r = rank.get(e.from)! + 1; r < rank.get(e.to)!; r++) {
      const d: Item = { id: "", width: opt.laneWidth, height: 0, dummy: true, up: [], down: [], x: 0 };
      byRank[r].push(d);
      prev.down.push(d);
      d.up.push(prev);
      chain.push(d);
      prev = d;
    }
    const target = items.get(e.to)!;
    prev.down.push(target);
    target.up.push(prev);
    chain.push(target);
    return chain;
  });

  // 3. Order within ranks: barycentre sweeps, keeping the best order seen.
  const position = new Map<Item, number>();
  const renumber = () => byRank.forEach((row) => row.forEach((it, k) => position.set(it, k)));
  renumber();
  const crossings = () => {
    let count = 0;
    for (let r = 0; r + 1 < ranks; r++) {
      const segs: [number, number][] = [];
      for (const it of byRank[r]) for (const d of it.down) segs.push([position.get(it)!, position.get(d)!]);
      for (let a = 0; a < segs.length; a++) {
        for (let b = a + 1; b < segs.length; b++) {
          if ((segs[a][0] - segs[b][0]) * (segs[a][1] - segs[b][1]) < 0) count++;
        }
      }
    }
    return count;
  };
  let best = byRank.map((row) => [...row]);
  let bestCrossings = crossings();
  const sweep = (r: number, neighbours: (it: Item) => Item[]) => {
    const row = byRank[r];
    const bary = new Map<Item, number>();
    for (const it of row) {
      const ns = neighbours(it);
      bary.set(it, ns.length === 0 ? position.get(it)! : ns.reduce((s, n) => s + position.get(n)!, 0) / ns.length);
    }
    row.sort((a, b) => bary.get(a)! - bary.get(b)! || position.get(a)! - position.get(b)!);
    row.forEach((it, k) => position.set(it, k));
  };
  for (let pass = 0; pass < 8 && bestCrossings > 0; pass++) {
    if (pass % 2 === 0) for (let r = 1; r < ranks; r++) sweep(r, (it) => it.up);
    else for (let r = ranks - 2; r >= 0; r--) sweep(r, (it) => it.down);
    const c = crossings();
    if (c < bestCrossings) {
      bestCrossings = c;
      best = byRank.map((row) => [...row]);
    }
  }
  best.forEach((row, r) => (byRank[r] = row));
  renumber();

  // 4. Horizontal positions: packed, then each node pulled towards its neighbours' centres.
  const centre = (it: Item) => it.x + it.width / 2;
  for (const row of byRank) {
    let x = 0;
    for (const it of row) {
      it.x = x;
      x += it.width + opt.gapX;
    }
  }
  const place = (row: Item[], desired: number[]) => {
    // The leftmost placement at or right of each desired x, and the rightmost at or left of it; their mean keeps the gaps.
    const left = row.map(() => 0);
    const right = row.map(() => 0);
    row.forEach((it, k) => (left[k] = k === 0 ? desired[k] : Math.max(desired[k], left[k - 1] + row[k - 1].width + opt.gapX)));
    for (let k = row.length - 1; k >= 0; k--) right[k] = k === row.length - 1 ? desired[k] : Math.min(desired[k], right[k + 1] - row[k].width - opt.gapX);
    row.forEach((it, k) => (it.x = (left[k] + right[k]) / 2));
  };
  for (let pass = 0; pass < 12; pass++) {
    const down = pass % 2 === 0;
    const order = down ? byRank.keys() : [...byRank.keys()].reverse();
    for (const r of order) {
      const row = byRank[r];
      const desired = row.map((it) => {
        const ns = down ? (it.up.length > 0 ? it.up : it.down) : it.down.length > 0 ? it.down : it.up;
        return ns.length === 0 ? it.x : ns.reduce((s, n) => s + centre(n), 0) / ns.length - it.width / 2;
      });
      place(row, desired);
    }
  }
  const minX = Math.min(...byRank.flat().map((it) => it.x));
  for (const it of byRank.flat()) it.x -= minX;

  // Vertical positions: each rank as tall as its tallest box.
  const top: number[] = [];
  let y = 0;
  for (let r = 0; r < ranks; r++) {
    top.push(y);
    y += Math.max(0, ...byRank[r].map((it) => it.height)) + opt.gapY;
  }
  const placed = new Map<string, PlacedNode>();
  for (const n of nodes) {
    const it = items.get(n.id)!;
    placed.set(n.id, { ...n, x: it.x, y: top[rank.get(n.id)!], rank: rank.get(n.id)! });
  }
  const rankOf = new Map<Item, number>();
  byRank.forEach((row, r) => row.forEach((it) => rankOf.set(it, r)));
  const routes = edges.map((e, k) => {
    const chain = chains[k];
    if (chain.length === 0) {
      const a = placed.get(e.from);
      const b = placed.get(e.to);
      if (!a || !b) return [];
      return [
        { x: a.x + a.width / 2, y: a.y + a.height },
        { x: b.x + b.width / 2, y: b.y },
      ];
    }
    const pts: { x: number; y: number }[] = [];
    const first = placed.get(e.from)!;
    pts.push({ x: first.x + first.width / 2, y: first.y + first.height });
    for (const d of chain.slice(1, -1)) {
      const r = rankOf.get(d)!;
      const rowHeight = Math.max(0, ...byRank[r].map((it) => it.height));
      pts.push({ x: centre(d), y: top[r] }, { x: centre(d), y: top[r] + rowHeight });
    }
    const last = placed.get(e.to)!;
    pts.push({ x: last.x + last.width / 2, y: last.y });
    return pts;
  });
  // Several edges into one box arrive side by side, in the order they come from, not at one point.
  const arriving = new Map<string, number[]>();
  edges.forEach((e, k) => {
    if (routes[k].length >= 2) arriving.set(e.to, [...(arriving.get(e.to) ?? []), k]);
  });
  for (const [to, ks] of arriving) {
    if (ks.length < 2) continue;
    const box = placed.get(to)!;
    const from = (k: number) => routes[k][routes[k].length - 2].x;
    ks.sort((a, b) => from(a) - from(b) || a - b);
    ks.forEach((k, j) => (routes[k][routes[k].length - 1].x = box.x + (box.width * (j + 1)) / (ks.length + 1)));
  }
  const width = Math.max(0, ...byRank.flat().map((it) => it.x + it.width));
  return { nodes: placed, routes, width, height: Math.max(0, y - opt.gapY) };
}
