/**
 * Lays out a `SagaGraph` with elkjs (layered algorithm), server-side, once per definition.
 *
 * The forward path and the compensation path are laid out as two separate top-down blocks, forward on
 * the left and the unwind on the right, so the compensation path is visibly apart from the happy path.
 * Edges inside a block are ELK's orthogonal routes; edges between the blocks (the forward Catch edges,
 * and a compensation that returns to the forward path) are drawn as curves in the gutter.
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

export const NODE_HEIGHT = 52;
const PADDING = 16;
const BLOCK_TITLE = 28;
const GUTTER = 120;
const LABEL_HEIGHT = 14;

/** Width of a state box: room for its name (or its status line) at 13 px. */
export function nodeWidth(node: Pick<GraphNode, 'id'>): number {
  return Math.max(168, Math.ceil(node.id.length * 7.6) + 28);
}

function labelWidth(text: string): number {
  return Math.ceil(text.length * 6.2) + 8;
}

const elk = new ELK();

interface BlockResult {
  width: number;
  height: number;
  nodes: NodeBox[];
  edges: EdgeRoute[];
}

async function layoutBlock(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): Promise<BlockResult> {
  if (nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [] };
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.edgeLabels.inline': 'false',
    },
    children: nodes.map((node) => ({ id: node.id, width: nodeWidth(node), height: NODE_HEIGHT })),
    edges: edges.map(
      (edge): ElkExtendedEdge => ({
        id: edge.id,
        sources: [edge.from],
        targets: [edge.to],
        ...(edge.label
          ? { labels: [{ text: edge.label, width: labelWidth(edge.label), height: LABEL_HEIGHT }] }
          : {}),
      }),
    ),
  };
  const out = await elk.layout(root);
  const boxes = (out.children ?? []).map((child) => ({
    id: child.id,
    x: child.x ?? 0,
    y: child.y ?? 0,
    width: child.width ?? 0,
    height: child.height ?? 0,
  }));
  const routes = (out.edges ?? []).map((edge): EdgeRoute => {
    const points: Point[] = [];
    for (const section of edge.sections ?? [])
      points.push(section.startPoint, ...(section.bendPoints ?? []), section.endPoint);
    const label = edge.labels?.[0];
    return {
      id: edge.id,
      points,
      curve: false,
      ...(label
        ? { labelAt: { x: (label.x ?? 0) + (label.width ?? 0) / 2, y: (label.y ?? 0) + LABEL_HEIGHT - 3 } }
        : {}),
    };
  });
  return { width: out.width ?? 0, height: out.height ?? 0, nodes: boxes, edges: routes };
}

function shift<T extends { x: number; y: number }>(value: T, dx: number, dy: number): T {
  return { ...value, x: value.x + dx, y: value.y + dy };
}

/** Lays out the graph: forward block on the left, compensation block on the right, curves between. */
export async function layoutGraph(graph: SagaGraph): Promise<GraphLayout> {
  const pathOf = new Map(graph.nodes.map((node) => [node.id, node.path]));
  const within = (path: PathKind) =>
    graph.edges.filter((e) => pathOf.get(e.from) === path && pathOf.get(e.to) === path);
  const forwardNodes = graph.nodes.filter((n) => n.path === 'forward');
  const compensationNodes = graph.nodes.filter((n) => n.path === 'compensation');
  const [forward, compensation] = await Promise.all([
    layoutBlock(forwardNodes, within('forward')),
    layoutBlock(compensationNodes, within('compensation')),
  ]);

  const blocks: BlockBox[] = [];
  const nodes: NodeBox[] = [];
  const edges: EdgeRoute[] = [];
  const place = (block: BlockResult, path: PathKind, title: string, x: number): void => {
    const dx = x + PADDING;
    const dy = PADDING + BLOCK_TITLE;
    blocks.push({
      path,
      title,
      x,
      y: 0,
      width: block.width + 2 * PADDING,
      height: block.height + dy + PADDING,
    });
    for (const node of block.nodes) nodes.push(shift(node, dx, dy));
    for (const edge of block.edges)
      edges.push({
        ...edge,
        points: edge.points.map((p) => shift(p, dx, dy)),
        ...(edge.labelAt ? { labelAt: shift(edge.labelAt, dx, dy) } : {}),
      });
  };
  place(forward, 'forward', 'Forward path', 0);
  if (compensationNodes.length > 0)
    place(
      compensation,
      'compensation',
      'Compensation path (reached only via Catch)',
      forward.width + 2 * PADDING + GUTTER,
    );

  const boxOf = new Map(nodes.map((n) => [n.id, n]));
  for (const edge of graph.edges) {
    if (pathOf.get(edge.from) === pathOf.get(edge.to)) continue;
    const from = boxOf.get(edge.from);
    const to = boxOf.get(edge.to);
    if (!from || !to) continue;
    const rightward = from.x < to.x;
    const start = { x: rightward ? from.x + from.width : from.x, y: from.y + from.height / 2 };
    const end = { x: rightward ? to.x : to.x + to.width, y: to.y + to.height / 2 };
    const pull = (end.x - start.x) / 2;
    edges.push({
      id: edge.id,
      curve: true,
      points: [start, { x: start.x + pull, y: start.y }, { x: end.x - pull, y: end.y }, end],
      ...(edge.label ? { labelAt: { x: start.x + (rightward ? 26 : -26), y: start.y - 5 } } : {}),
    });
  }
  const width = Math.max(...blocks.map((b) => b.x + b.width));
  const height = Math.max(...blocks.map((b) => b.y + b.height));
  return { width, height, blocks, nodes, edges };
}
