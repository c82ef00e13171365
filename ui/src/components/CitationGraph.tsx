// The citation graph — the question at the centre, the suggested articles around it, the
// precedents that cite them outside — drawn with cytoscape.js (loaded on demand). Clicking or
// pressing Enter on a node opens it; the lists above are the keyboard-and-screen-reader route.
import { useEffect, useRef, useState } from 'react';
import type { CitationGraph as Graph } from '../types';

interface Props {
  graph: Graph;
  onOpenStatute(id: string): void;
  onOpenPrecedent(caseNumber: string): void;
}

const PRECEDENT = 'precedent:';

export function CitationGraph({ graph, onOpenStatute, onOpenPrecedent }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  const open = useRef({ onOpenStatute, onOpenPrecedent });
  open.current = { onOpenStatute, onOpenPrecedent };

  useEffect(() => {
    let destroyed = false;
    let cy: { destroy(): void } | undefined;
    let resized: ResizeObserver | undefined;
    import('cytoscape')
      .then(({ default: cytoscape }) => {
        if (destroyed || !box.current) return;
        const ids = new Set(graph.nodes.map((n) => n.id));
        const c = cytoscape({
          container: box.current,
          elements: [
            ...graph.nodes.map((n) => ({
              data: { id: n.id, label: n.kind === 'question' ? '내 질문' : n.label, kind: n.kind },
            })),
            ...graph.edges
              .filter((e) => ids.has(e.from) && ids.has(e.to))
              .map((e, i) => ({ data: { id: `e${i}`, source: e.from, target: e.to, kind: e.kind } })),
          ],
          style: [
            {
              selector: 'node',
              style: {
                label: 'data(label)',
                'font-size': 10,
                'text-wrap': 'ellipsis',
                'text-max-width': '96px',
                'text-valign': 'bottom',
                'text-margin-y': 4,
                color: '#1f2937',
                'text-background-color': '#ffffff',
                'text-background-opacity': 0.85,
                'text-background-padding': '1px',
                width: 18,
                height: 18,
              },
            },
            { selector: 'node[kind = "question"]', style: { 'background-color': '#b45309', width: 30, height: 30, 'font-weight': 'bold' } },
            { selector: 'node[kind = "statute"]', style: { 'background-color': '#1d4ed8', shape: 'round-rectangle' } },
            { selector: 'node[kind = "precedent"]', style: { 'background-color': '#047857', shape: 'ellipse' } },
            { selector: 'edge', style: { width: 1.5, 'line-color': '#9ca3af', 'curve-style': 'bezier' } },
            { selector: 'edge[kind = "cites"]', style: { 'target-arrow-shape': 'triangle', 'target-arrow-color': '#9ca3af', 'line-color': '#6b7280' } },
            { selector: 'edge[kind = "similar"]', style: { 'line-style': 'dashed' } },
          ],
          layout: {
            name: 'concentric',
            concentric: (n: { data(k: string): string }) => (n.data('kind') === 'question' ? 3 : n.data('kind') === 'statute' ? 2 : 1),
            levelWidth: () => 1,
            minNodeSpacing: 40,
            spacingFactor: 1.25,
            avoidOverlap: true,
            animate: false,
          },
          minZoom: 0.3,
          maxZoom: 3,
          wheelSensitivity: 0.3,
        });
        c.on('tap', 'node', (ev) => {
          const id: string = ev.target.id();
          const kind: string = ev.target.data('kind');
          if (kind === 'statute') open.current.onOpenStatute(id);
          else if (kind === 'precedent') open.current.onOpenPrecedent(id.startsWith(PRECEDENT) ? id.slice(PRECEDENT.length) : id);
        });
        c.on('mouseover', 'node', () => box.current && (box.current.style.cursor = 'pointer'));
        c.on('mouseout', 'node', () => box.current && (box.current.style.cursor = ''));
        cy = c;
        // The box changes width when the side panel opens or closes; cytoscape measures its
        // container only on window resizes, and until told a tap lands where a node used to be.
        if (typeof ResizeObserver !== 'undefined') {
          resized = new ResizeObserver(() => c.resize());
          resized.observe(box.current);
        }
        // The end-to-end test reads node positions from here to click a node as a person would.
        (box.current as HTMLDivElement & { cy?: unknown }).cy = c;
      })
      .catch(() => setFailed(true));
    return () => {
      destroyed = true;
      resized?.disconnect();
      cy?.destroy();
    };
  }, [graph]);

  const statutes = graph.nodes.filter((n) => n.kind === 'statute').length;
  const precedents = graph.nodes.filter((n) => n.kind === 'precedent').length;
  return (
    <figure className="graph">
      <div
        ref={box}
        className="graph-canvas"
        data-testid="citation-graph"
        role="img"
        aria-label={`인용 관계 그래프: 내 질문을 가운데에 두고 조문 ${statutes}개와 판례 ${precedents}개가 연결되어 있습니다.`}
      />
      {failed && <p className="warn-text">그래프를 그리지 못했습니다. 위의 목록에서 조문과 판례를 열어 보세요.</p>}
      <figcaption>
        <span className="legend q">내 질문</span> <span className="legend s">조문</span> <span className="legend p">판례</span> — 점을 누르면
        내용이 열립니다. 화살표는 판례가 조문을 인용한다는 뜻입니다.
      </figcaption>
    </figure>
  );
}
