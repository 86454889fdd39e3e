/**
 * The state machine graph (SVG): the server's layout drawn with each state's status from the shown
 * execution, the taken transitions bold and the others faded; zoom (Fit, −, +, 100 %).
 */
import type { ExecutionDetail, GraphResponse } from '../api';
import type { EdgeRoute, NodeBox } from '../layout';
import { type GraphEdge, type GraphNode, statusLabel } from '../model';
import { $, h, svg } from './dom';

export interface GraphView {
  graph: GraphResponse | undefined;
  detail: ExecutionDetail | undefined;
  selectedState: string | undefined;
  /** `fit` (the whole graph in the panel) or a scale factor. */
  zoom: 'fit' | number;
  selectState(name: string): void;
}

function shapeFor(node: GraphNode, box: NodeBox): SVGElement {
  const { x, y, width: w, height: hgt } = box;
  if (node.type === 'Choice') {
    const d = 14;
    const points = [
      [x + d, y],
      [x + w - d, y],
      [x + w, y + hgt / 2],
      [x + w - d, y + hgt],
      [x + d, y + hgt],
      [x, y + hgt / 2],
    ];
    return svg('polygon', { class: 'shape', points: points.map((p) => p.join(',')).join(' ') });
  }
  const rx = node.type === 'Succeed' || node.type === 'Fail' ? hgt / 2 : node.type === 'Pass' ? 2 : 8;
  return svg('rect', { class: 'shape', x, y, width: w, height: hgt, rx });
}

function edgePath(route: EdgeRoute): string {
  const [first, ...rest] = route.points;
  if (!first) return '';
  if (route.curve && rest.length === 3) {
    const [c1, c2, end] = rest as [typeof first, typeof first, typeof first];
    return `M${first.x},${first.y} C${c1.x},${c1.y} ${c2.x},${c2.y} ${end.x},${end.y}`;
  }
  return `M${first.x},${first.y} ${rest.map((p) => `L${p.x},${p.y}`).join(' ')}`;
}

function arrowMarkers(): SVGElement {
  const defs = svg('defs');
  for (const [id, color] of [
    ['arrow', '#80868b'],
    ['arrow-catch', '#c5221f'],
  ] as const) {
    const marker = svg('marker', {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 9,
      markerHeight: 9,
      markerUnits: 'userSpaceOnUse',
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.append(marker);
  }
  return defs;
}

export function renderGraph(view: GraphView): void {
  const container = $('graph');
  const g = view.graph;
  if (!g) {
    container.replaceChildren(h('p', { class: 'muted' }, 'No state machine deployed yet.'));
    return;
  }
  const { layout, graph } = g;
  const states = view.detail?.states ?? {};
  const taken = new Set(view.detail?.takenEdges ?? []);
  const takenClass = (id: string) => (taken.has(id) ? ' taken' : view.detail ? ' untaken' : '');
  const root = svg('svg', {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    'data-zoom': String(view.zoom),
    role: 'group',
    'aria-label': `Graph of ${g.name}`,
  });
  root.append(arrowMarkers());
  for (const block of layout.blocks) {
    root.append(
      svg('rect', {
        class: `block ${block.path}`,
        x: block.x,
        y: block.y,
        width: block.width,
        height: block.height,
        rx: 10,
      }),
      svg('text', { class: 'block-title', x: block.x + 12, y: block.y + 20 }, block.title),
    );
  }
  const edgeById = new Map<string, GraphEdge>(graph.edges.map((e) => [e.id, e]));
  const labels: SVGElement[] = [];
  for (const route of layout.edges) {
    const edge = edgeById.get(route.id);
    if (!edge) continue;
    const path = svg('path', {
      class: `edge ${edge.kind}${takenClass(edge.id)}`,
      d: edgePath(route),
      'marker-end': `url(#${edge.kind === 'catch' ? 'arrow-catch' : 'arrow'})`,
      'data-edge': edge.id,
    });
    path.append(
      svg(
        'title',
        {},
        `${edge.from} → ${edge.to}${edge.detail ? ` (${edge.kind === 'catch' ? 'Catch ' : ''}${edge.detail})` : ''}`,
      ),
    );
    root.append(path);
    if (edge.label && route.labelAt) {
      const text = edge.label.length > 28 ? `${edge.label.slice(0, 27)}…` : edge.label;
      labels.push(
        svg(
          'text',
          {
            class: `edge-label ${edge.kind}${takenClass(edge.id)}`,
            x: route.labelAt.x,
            y: route.labelAt.y,
            'text-anchor': 'middle',
          },
          text,
        ),
      );
    }
  }
  const nodeById = new Map(graph.nodes.map((n) => [n.id, n]));
  const ordered = [...layout.nodes].sort((a, b) => {
    const pa = nodeById.get(a.id)?.path === 'forward' ? 0 : 1;
    const pb = nodeById.get(b.id)?.path === 'forward' ? 0 : 1;
    return pa - pb || a.y - b.y || a.x - b.x;
  });
  for (const box of ordered) {
    const node = nodeById.get(box.id);
    if (!node) continue;
    const run = states[node.id] ?? { status: 'not-reached' as const, retries: 0 };
    const label = statusLabel(run);
    const selected = view.selectedState === node.id;
    const group = svg('g', {
      class: `state ${run.status}${selected ? ' selected' : ''}`,
      tabindex: 0,
      role: 'button',
      'data-state': node.id,
      'data-status': run.status,
      'data-retries': run.retries,
      'aria-label': `${node.id} (${node.type}): ${label}`,
      'aria-pressed': selected ? 'true' : 'false',
    });
    const middle = box.x + box.width / 2;
    group.append(
      shapeFor(node, box),
      svg(
        'text',
        { class: 'type', x: box.x + box.width - 8, y: box.y + 12, 'text-anchor': 'end' },
        node.type,
      ),
      svg('text', { class: 'name', x: middle, y: box.y + 24, 'text-anchor': 'middle' }, node.id),
      svg('text', { class: 'status', x: middle, y: box.y + 41, 'text-anchor': 'middle' }, label),
    );
    const choose = () => view.selectState(node.id);
    group.addEventListener('click', choose);
    group.addEventListener('keydown', (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') {
        event.preventDefault();
        choose();
      }
    });
    root.append(group);
  }
  root.append(...labels);
  const { scrollTop, scrollLeft } = container;
  container.replaceChildren(root);
  applyZoom(view);
  container.scrollTop = scrollTop;
  container.scrollLeft = scrollLeft;
}

/** Sizes the graph: `fit` scales it to the panel (never above 100 %), a number is a fixed scale. */
function applyZoom(view: GraphView): void {
  const container = $('graph');
  const root = container.querySelector('svg');
  const layout = view.graph?.layout;
  if (!root || !layout) return;
  const fit = Math.min(
    1,
    (container.clientWidth - 2) / layout.width,
    (container.clientHeight - 2) / layout.height,
  );
  const scale = view.zoom === 'fit' ? fit : view.zoom;
  root.setAttribute('width', String(Math.floor(layout.width * scale)));
  root.setAttribute('height', String(Math.floor(layout.height * scale)));
  $('zoom-level').textContent = `${Math.round(scale * 100)} %`;
}

/** Wires the zoom toolbar (and the window's resize) to the view. */
export function setupZoom(view: GraphView): void {
  const zoomTo = (zoom: 'fit' | number) => {
    view.zoom = zoom;
    applyZoom(view);
  };
  const zoomBy = (factor: number) => {
    const current = Number.parseFloat($('zoom-level').textContent ?? '100') / 100 || 1;
    zoomTo(Math.min(3, Math.max(0.3, Math.round(current * factor * 20) / 20)));
  };
  $('zoom-fit').addEventListener('click', () => zoomTo('fit'));
  $('zoom-in').addEventListener('click', () => zoomBy(1.25));
  $('zoom-out').addEventListener('click', () => zoomBy(0.8));
  $('zoom-reset').addEventListener('click', () => zoomTo(1));
  window.addEventListener('resize', () => applyZoom(view));
}
