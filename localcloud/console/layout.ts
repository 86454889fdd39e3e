/**
 * Lays out a `SagaGraph` with elkjs (layered algorithm), server-side, once per definition.
 *
 * The picture reads like a saga: the forward path is one column going down; the unwind is a parallel
 * column beside it going UP (reverse order), so every state a Catch reaches sits level with the state
 * that caught, and every Catch is a short horizontal dashed hop. Nothing here knows a state name: the
 * rows come from the structure of the definition (`assignRows`), ELK does the rest (the order of the
 * states of a row, the x positions, the orthogonal routes of every edge between rows).
 *
 * How the structure becomes rows:
 * - forward path (reachable from `StartAt` without a Catch): the longest-path layer from `StartAt`;
 * - a Catch target sits level with the state that caught (`<Step>Failed` beside its step, a
 *   compensation's dead-letter Task beside the compensation), and so does the handler a forward Catch
 *   target leads to (the step's own compensation) and the branches of a Choice of the unwind;
 * - any other transition of the unwind climbs one row (the unwind runs in reverse order, bottom-up),
 *   a Fail state ends the unwind one row further up, a Succeed state sits one row below what reaches it.
 *
 * The rows go to ELK as partitions (`elk.partitioning`), one layer each; the transitions within a row
 * are drawn as straight hops (ELK's layered algorithm has no in-layer edges), the upward transitions of
 * the unwind are given to ELK reversed (so its layering stays top-down) and their routes turned back.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { GraphEdge, GraphNode, PathKind, SagaGraph } from './model';

export interface Point {
  readonly x: number;
  readonly y: number;
}
export interface NodeBox {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
export interface EdgeRoute {
  readonly id: string;
  /** Polyline (`curve: false`) or cubic Bézier control points `[start, c1, c2, end]` (`curve: true`). */
  readonly points: readonly Point[];
  readonly curve: boolean;
  readonly labelAt?: Point;
}
export interface BlockBox {
  readonly path: PathKind;
  readonly title: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly blocks: readonly BlockBox[];
  readonly nodes: readonly NodeBox[];
  readonly edges: readonly EdgeRoute[];
}

export const NODE_HEIGHT = 50;
const MARGIN = 14;
const BLOCK_PAD = 10;
const BLOCK_TITLE = 22;
const LABEL_HEIGHT = 14;
/** The y hint of a row for ELK's interactive layering (only the order of the hints matters). */
const ROW_HINT = 1000;

/** Width of a state box: room for its name (or its status line) at 13 px. */
export function nodeWidth(node: Pick<GraphNode, 'id'>): number {
  return Math.max(156, Math.ceil(node.id.length * 7.4) + 24);
}

/**
 * The row of every state (0 = the top row), derived from the definition's structure only (see the
 * module comment). Exported for the tests.
 */
export function assignRows(graph: SagaGraph): Map<string, number> {
  const nodeOf = new Map(graph.nodes.map((n) => [n.id, n]));
  const isForward = (id: string) => nodeOf.get(id)?.path === 'forward';
  const rows = new Map<string, number>([[graph.startAt, 0]]);
  const rounds = graph.nodes.length + 1;
  // Forward path: the longest-path layer (bounded rounds: a loop in the definition cannot hang us).
  for (let round = 0; round < rounds; round += 1) {
    let changed = false;
    for (const e of graph.edges) {
      if (e.kind === 'catch' || !isForward(e.from) || !isForward(e.to)) continue;
      const from = rows.get(e.from);
      if (from === undefined || from + 1 <= (rows.get(e.to) ?? Number.NEGATIVE_INFINITY)) continue;
      rows.set(e.to, from + 1);
      changed = true;
    }
    if (!changed) break;
  }
  // The unwind: level with what caught, climbing otherwise.
  const anchors = new Set(
    graph.edges.filter((e) => e.kind === 'catch' && isForward(e.from) && !isForward(e.to)).map((e) => e.to),
  );
  const delta = (e: GraphEdge): number => {
    const type = nodeOf.get(e.to)?.type;
    if (type === 'Succeed') return 1;
    if (type === 'Fail') return -1;
    if (e.kind === 'catch' || e.kind === 'choice' || e.kind === 'default') return 0;
    return anchors.has(e.from) ? 0 : -1;
  };
  for (let round = 0; round < rounds; round += 1) {
    let changed = false;
    for (const e of graph.edges) {
      if (isForward(e.to)) continue;
      const from = rows.get(e.from);
      if (from === undefined) continue;
      const candidate = from + delta(e);
      const current = rows.get(e.to);
      const better =
        current === undefined ||
        (nodeOf.get(e.to)?.type === 'Succeed' ? candidate > current : candidate < current);
      if (better) {
        rows.set(e.to, candidate);
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (const node of graph.nodes) if (!rows.has(node.id)) rows.set(node.id, 0); // unreachable state
  const top = Math.min(...rows.values());
  for (const [id, row] of rows) rows.set(id, row - top);
  return rows;
}

/** States in ELK's model order: row by row; in a row, the forward state first, then along the hops. */
function modelOrder(graph: SagaGraph, rows: Map<string, number>): GraphNode[] {
  const nodeOf = new Map(graph.nodes.map((n) => [n.id, n]));
  const discovery = new Map<string, number>([[graph.startAt, 0]]);
  const queue = [graph.startAt];
  // Breadth-first from StartAt, Next/Choice before Catch: a stable order from the definition itself.
  for (let i = 0; i < queue.length; i += 1) {
    const id = queue[i] ?? '';
    const out = graph.edges.filter((e) => e.from === id);
    for (const e of [...out.filter((o) => o.kind !== 'catch'), ...out.filter((o) => o.kind === 'catch')])
      if (!discovery.has(e.to)) {
        discovery.set(e.to, discovery.size);
        queue.push(e.to);
      }
  }
  const rank = (n: GraphNode) => (n.path === 'forward' ? 0 : 1) * 1e6 + (discovery.get(n.id) ?? 1e5);
  const ordered: GraphNode[] = [];
  const seen = new Set<string>();
  const visit = (node: GraphNode): void => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    ordered.push(node);
    for (const e of graph.edges)
      if (e.from === node.id && rows.get(e.to) === rows.get(node.id)) {
        const next = nodeOf.get(e.to);
        if (next) visit(next);
      }
  };
  const byRow = [...graph.nodes].sort(
    (a, b) => (rows.get(a.id) ?? 0) - (rows.get(b.id) ?? 0) || rank(a) - rank(b),
  );
  const hopTargets = new Set(
    graph.edges.filter((e) => e.from !== e.to && rows.get(e.from) === rows.get(e.to)).map((e) => e.to),
  );
  for (const node of byRow) if (!hopTargets.has(node.id)) visit(node);
  for (const node of byRow) visit(node);
  return ordered.sort((a, b) => (rows.get(a.id) ?? 0) - (rows.get(b.id) ?? 0));
}

const elk = new ELK();

function box(node: ElkNode): NodeBox {
  return { id: node.id, x: node.x ?? 0, y: node.y ?? 0, width: node.width ?? 0, height: node.height ?? 0 };
}

function bounds(boxes: readonly NodeBox[]) {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x, y, width: right - x, height: bottom - y };
}

/** Lays out the graph: the forward column, the unwind beside it in reverse order, Catch hops between. */
export async function layoutGraph(graph: SagaGraph): Promise<GraphLayout> {
  const rows = assignRows(graph);
  const ordered = modelOrder(graph, rows);
  const sameRow = (e: GraphEdge) => rows.get(e.from) === rows.get(e.to);
  const upward = (e: GraphEdge) => (rows.get(e.from) ?? 0) > (rows.get(e.to) ?? 0);
  const catchTargets = new Set(graph.edges.filter((e) => e.kind === 'catch').map((e) => e.to));
  // One width for every state: the columns line up.
  const width = Math.max(...graph.nodes.map(nodeWidth));
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      // One layer per derived row: ELK's interactive layering reads the layer from each node's y.
      'elk.layered.layering.strategy': 'INTERACTIVE',
      'elk.separateConnectedComponents': 'false',
      'elk.padding': `[top=${MARGIN + BLOCK_TITLE},left=${MARGIN},bottom=${MARGIN},right=${MARGIN}]`,
      'elk.layered.spacing.nodeNodeBetweenLayers': '26',
      'elk.spacing.nodeNode': '44',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '10',
      'elk.layered.spacing.edgeNodeBetweenLayers': '10',
      'elk.spacing.edgeLabel': '3',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.nodePlacement.bk.fixedAlignment': 'RIGHTDOWN',
      'elk.layered.nodePlacement.bk.edgeStraightening': 'IMPROVE_STRAIGHTNESS',
      'elk.layered.mergeEdges': 'false',
      'elk.edgeLabels.inline': 'false',
    },
    children: ordered.map((node, i) => ({
      id: node.id,
      x: i * ROW_HINT,
      width,
      height: NODE_HEIGHT,
      y: (rows.get(node.id) ?? 0) * ROW_HINT,
      // Every edge leaves a state at the middle of its bottom and enters at the middle of its top.
      layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
      ports: [
        {
          id: `${node.id}:in`,
          x: width / 2,
          y: 0,
          width: 0,
          height: 0,
          layoutOptions: { 'elk.port.side': 'NORTH' },
        },
        {
          id: `${node.id}:out`,
          x: width / 2,
          y: NODE_HEIGHT,
          width: 0,
          height: 0,
          layoutOptions: { 'elk.port.side': 'SOUTH' },
        },
      ],
    })),
    edges: graph.edges
      .filter((e) => !sameRow(e))
      .map(
        (edge): ElkExtendedEdge => ({
          id: edge.id,
          sources: [`${upward(edge) ? edge.to : edge.from}:out`],
          targets: [`${upward(edge) ? edge.from : edge.to}:in`],
          // The spine of each column (forward steps, compensation to compensation) kept straight.
          layoutOptions: { 'elk.layered.priority.straightness': catchTargets.has(edge.from) ? '0' : '10' },
        }),
      ),
  };
  const out = await elk.layout(root);
  const nodes = (out.children ?? []).map(box);
  const boxOf = new Map(nodes.map((n) => [n.id, n]));
  const edgeOf = new Map(graph.edges.map((e) => [e.id, e]));
  const edges: EdgeRoute[] = (out.edges ?? []).map((routed): EdgeRoute => {
    const points: Point[] = [];
    for (const section of routed.sections ?? [])
      points.push(section.startPoint, ...(section.bendPoints ?? []), section.endPoint);
    const edge = edgeOf.get(routed.id);
    if (edge && upward(edge)) points.reverse();
    const end = points[points.length - 1];
    return {
      id: routed.id,
      points,
      curve: false,
      // The label just before the arrow head (routes from one port share their first segment).
      ...(edge?.label && end
        ? { labelAt: { x: end.x, y: upward(edge) ? end.y + LABEL_HEIGHT + 2 : end.y - 6 } }
        : {}),
    };
  });
  // Hops within a row: a straight horizontal line between facing sides (ELK keeps the row's order).
  for (const edge of graph.edges.filter(sameRow)) {
    const from = boxOf.get(edge.from);
    const to = boxOf.get(edge.to);
    if (!from || !to) continue;
    const rightward = from.x < to.x;
    const y = from.y + from.height / 2;
    const start = { x: rightward ? from.x + from.width : from.x, y };
    const end = { x: rightward ? to.x : to.x + to.width, y };
    edges.push({
      id: edge.id,
      curve: false,
      points: [start, end],
      // On the hop, or above the row when the hop is too short for the text (a Choice rule).
      ...(edge.label
        ? {
            labelAt: {
              x: (start.x + end.x) / 2,
              y: edge.label.length * 6.2 > Math.abs(end.x - start.x) ? from.y - 5 : y - 5,
            },
          }
        : {}),
    });
  }
  const blocks: BlockBox[] = [];
  for (const [path, title] of [
    ['forward', 'Forward path'],
    ['compensation', 'Unwind (reached only via Catch)'],
  ] as const) {
    const members = nodes.filter((n) => graph.nodes.find((g) => g.id === n.id)?.path === path);
    if (members.length === 0) continue;
    const b = bounds(members);
    blocks.push({
      path,
      title,
      x: b.x - BLOCK_PAD,
      y: b.y - BLOCK_PAD - BLOCK_TITLE,
      width: b.width + 2 * BLOCK_PAD,
      height: b.height + 2 * BLOCK_PAD + BLOCK_TITLE,
    });
  }
  const totalWidth = Math.max(out.width ?? 0, ...blocks.map((b) => b.x + b.width + MARGIN / 2));
  const height = Math.max(out.height ?? 0, ...blocks.map((b) => b.y + b.height + MARGIN / 2));
  return { width: totalWidth, height, blocks, nodes, edges };
}
