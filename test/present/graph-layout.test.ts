// The layered layout summary --html draws with: ranks by longest path, boxes of a rank
// apart, every forward edge pointing down, long edges routed through their own lanes,
// crossings removed where a reordering removes them. Positions are exact sums of the
// sizes and gaps given, so the checks are exact (no tolerance) except the centring of a
// chain, which is a mean of floats (1e-9).
import { describe, expect, it } from "vitest";
import { layeredLayout, type LayoutEdge, type LayoutNode } from "../../src/present/graph-layout.js";

const box = (id: string, width = 100, height = 40): LayoutNode => ({ id, width, height });
const edge = (from: string, to: string): LayoutEdge => ({ from, to });

function crossings(layout: ReturnType<typeof layeredLayout>): number {
  // Segments of the routes, compared pairwise: two straight segments between the same two heights cross when their ends swap order.
  const segs = layout.routes.flatMap((r) => r.slice(1).map((p, k) => [r[k], p] as const));
  let n = 0;
  for (let a = 0; a < segs.length; a++) {
    for (let b = a + 1; b < segs.length; b++) {
      const [p, q] = [segs[a], segs[b]];
      if (p[0].y !== q[0].y || p[1].y !== q[1].y) continue;
      if ((p[0].x - q[0].x) * (p[1].x - q[1].x) < 0) n++;
    }
  }
  return n;
}

function expectApart(layout: ReturnType<typeof layeredLayout>, gap: number): void {
  const nodes = [...layout.nodes.values()];
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b || a.rank !== b.rank) continue;
      const [l, r] = a.x < b.x ? [a, b] : [b, a];
      expect(r.x - (l.x + l.width), `${a.id} and ${b.id}`).toBeGreaterThanOrEqual(gap - 1e-9);
    }
  }
}

describe("layeredLayout", () => {
  it("a chain is one column, each box a rank below the last, centred on one line", () => {
    const nodes = [box("a", 80), box("b", 140), box("c", 100, 60), box("d")];
    const l = layeredLayout(nodes, [edge("a", "b"), edge("b", "c"), edge("c", "d")], { gapY: 50 });
    expect([...l.nodes.values()].map((n) => n.rank)).toEqual([0, 1, 2, 3]);
    expect([...l.nodes.values()].map((n) => n.y)).toEqual([0, 90, 180, 290]);
    const centres = [...l.nodes.values()].map((n) => n.x + n.width / 2);
    for (const c of centres) expect(Math.abs(c - centres[0])).toBeLessThan(1e-9);
    expect(l.height).toBe(330);
    expect(l.width).toBe(140);
  });

  it("ranks are longest paths; a long edge goes down through one lane per rank it passes", () => {
    // a → b → c → d and a → d (a skip connection).
    const l = layeredLayout([box("a"), box("b"), box("c"), box("d")], [edge("a", "b"), edge("b", "c"), edge("c", "d"), edge("a", "d")]);
    expect(l.nodes.get("d")!.rank).toBe(3);
    const skip = l.routes[3];
    // From a's bottom, through two lanes (top and bottom of each passed rank), to d's top.
    expect(skip.length).toBe(2 + 2 * 2);
    for (let k = 1; k < skip.length; k++) expect(skip[k].y).toBeGreaterThanOrEqual(skip[k - 1].y);
    expect(skip[0]).toEqual({ x: l.nodes.get("a")!.x + 50, y: 40 });
    expect(skip[skip.length - 1].y).toBe(l.nodes.get("d")!.y);
    // The lane passes beside b and c, not through them.
    for (const id of ["b", "c"]) {
      const n = l.nodes.get(id)!;
      const lane = skip.find((p) => p.y === n.y)!;
      expect(lane.x < n.x || lane.x > n.x + n.width).toBe(true);
    }
    expectApart(l, 24);
  });

  it("orders each rank so that edges do not cross where they need not", () => {
    // Given in an order whose naive drawing crosses both pairs: a → y, b → x with x before y.
    const nodes = [box("a"), box("b"), box("x"), box("y"), box("p"), box("q")];
    const edges = [edge("a", "y"), edge("b", "x"), edge("x", "q"), edge("y", "p")];
    const l = layeredLayout(nodes, edges);
    expect(crossings(l)).toBe(0);
    expectApart(l, 24);
  });

  it("several edges into one box arrive side by side, in the order of their sources", () => {
    const l = layeredLayout([box("a"), box("b"), box("c"), box("m", 120)], [edge("a", "m"), edge("b", "m"), edge("c", "m")]);
    const ends = l.routes.map((r) => r[r.length - 1]);
    const m = l.nodes.get("m")!;
    expect(ends.map((p) => p.y)).toEqual([m.y, m.y, m.y]);
    expect(ends.map((p) => p.x)).toEqual([m.x + 30, m.x + 60, m.x + 90]);
    expect(crossings(l)).toBe(0);
  });

  it("stacked: one box per rank in the order given, with no edges (layers whose connections are unknown)", () => {
    const l = layeredLayout([box("a"), box("b", 200), box("c")], [], { stacked: true, gapY: 16 });
    expect([...l.nodes.values()].map((n) => [n.rank, n.y])).toEqual([
      [0, 0],
      [1, 56],
      [2, 112],
    ]);
    expect(l.routes).toEqual([]);
  });

  it("an edge against the given order (a cycle a file should not hold) is drawn straight and ranks nothing", () => {
    const l = layeredLayout([box("a"), box("b")], [edge("a", "b"), edge("b", "a"), edge("a", "zz")]);
    expect([l.nodes.get("a")!.rank, l.nodes.get("b")!.rank]).toEqual([0, 1]);
    expect(l.routes[1].length).toBe(2);
    expect(l.routes[2]).toEqual([]);
  });
});
