// A neighbourhood drawn as an SVG map on the server: its polygon, its neighbours and its address points; no map tiles.
import { bbox, polygons, projector, type BBox, type Geometry } from './geo.ts';

export interface MapArea {
  slug: string;
  name: string;
  geometry: Geometry;
}

export interface MapInput {
  focus: MapArea;
  neighbours: MapArea[];
  /** address points: [lon, lat] */
  points: Array<[number, number]>;
  width?: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function pathOf(g: Geometry, p: ReturnType<typeof projector>): string {
  return polygons(g)
    .map((poly) => poly.map((ring) => `M${ring.map(([x, y]) => `${p.x(x)},${p.y(y)}`).join('L')}Z`).join(''))
    .join('');
}

function union(boxes: BBox[]): BBox {
  return boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]);
}

/** The SVG markup (escaped names, attributes only: it passes a strict CSP). Points sharing a spot are drawn once, sized by count. */
export function neighborhoodSvg(input: MapInput, labels: { title: string }): string {
  const width = input.width ?? 640;
  const focusBox = bbox(input.focus.geometry);
  // Show the neighbours around the focus, but keep the focus large: at most twice its size each way.
  const dx = focusBox[2] - focusBox[0];
  const dy = focusBox[3] - focusBox[1];
  const view: BBox = [focusBox[0] - dx * 0.5, focusBox[1] - dy * 0.5, focusBox[2] + dx * 0.5, focusBox[3] + dy * 0.5];
  const box = union([focusBox, ...input.neighbours.map((n) => bbox(n.geometry))]);
  const clip: BBox = [Math.max(box[0], view[0]), Math.max(box[1], view[1]), Math.min(box[2], view[2]), Math.min(box[3], view[3])];
  const p = projector(clip, width);
  const spots = new Map<string, { x: number; y: number; n: number }>();
  for (const [lon, lat] of input.points) {
    const x = p.x(lon);
    const y = p.y(lat);
    const key = `${Math.round(x / 3)}:${Math.round(y / 3)}`;
    const s = spots.get(key) ?? { x, y, n: 0 };
    s.n++;
    spots.set(key, s);
  }
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 ${p.width} ${p.height}" width="${p.width}" height="${p.height}" role="img" aria-labelledby="map-title">`);
  out.push(`<title id="map-title">${esc(labels.title)}</title>`);
  for (const n of input.neighbours) {
    out.push(`<a href="/admin/neighborhoods/${esc(n.slug)}"><path class="map-neighbour" d="${pathOf(n.geometry, p)}" fill="#e9ece6" stroke="#9aa39c" stroke-width="1"><title>${esc(n.name)}</title></path></a>`);
  }
  out.push(`<path class="map-focus" d="${pathOf(input.focus.geometry, p)}" fill="#cfe5dd" fill-opacity="0.9" stroke="#1f6f5c" stroke-width="2.5"/>`);
  for (const s of spots.values()) {
    const r = Math.min(12, 2 + Math.sqrt(s.n));
    out.push(`<circle cx="${s.x}" cy="${s.y}" r="${r.toFixed(1)}" fill="#1f6f5c" fill-opacity="0.75" stroke="#fff" stroke-width="0.8"><title>${s.n}</title></circle>`);
  }
  for (const n of input.neighbours) {
    const b = bbox(n.geometry);
    const cx = p.x((b[0] + b[2]) / 2);
    const cy = p.y((b[1] + b[3]) / 2);
    if (cx > 20 && cx < p.width - 20 && cy > 10 && cy < p.height - 10) out.push(`<text x="${cx}" y="${cy}" text-anchor="middle" font-size="11" fill="#4b554f">${esc(n.name)}</text>`);
  }
  out.push('</svg>');
  return out.join('');
}
