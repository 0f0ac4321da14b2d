// Geometry for neighbourhoods: point in polygon (turf), bounding boxes, adjacency of rough polygons, projection for SVG maps.
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import booleanIntersects from '@turf/boolean-intersects';

export type Position = [number, number]; // [lon, lat]
export type PolygonCoords = Position[][];
export interface Geometry {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: PolygonCoords | PolygonCoords[];
}
export type BBox = [number, number, number, number]; // minLon, minLat, maxLon, maxLat

export function polygons(g: Geometry): PolygonCoords[] {
  return g.type === 'Polygon' ? [g.coordinates as PolygonCoords] : (g.coordinates as PolygonCoords[]);
}

export function isGeometry(g: unknown): g is Geometry {
  if (!g || typeof g !== 'object') return false;
  const x = g as { type?: unknown; coordinates?: unknown };
  if (x.type !== 'Polygon' && x.type !== 'MultiPolygon') return false;
  const polys = x.type === 'Polygon' ? [x.coordinates] : x.coordinates;
  if (!Array.isArray(polys) || polys.length === 0) return false;
  return polys.every(
    (p) => Array.isArray(p) && p.length > 0 && p.every((ring) => Array.isArray(ring) && ring.length >= 4 && ring.every((pt) => Array.isArray(pt) && pt.length >= 2 && pt.slice(0, 2).every((n) => typeof n === 'number' && Number.isFinite(n)))),
  );
}

export function bbox(g: Geometry): BBox {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polygons(g)) for (const [x, y] of poly[0]!) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

export function inBBox(b: BBox, lon: number, lat: number, margin = 0): boolean {
  return lon >= b[0] - margin && lon <= b[2] + margin && lat >= b[1] - margin && lat <= b[3] + margin;
}

export function containsPoint(g: Geometry, lon: number, lat: number): boolean {
  return booleanPointInPolygon([lon, lat], g as never);
}

const METERS_PER_DEG_LAT = 111_320;

/** Distance in metres from a point to a segment, on a local flat projection (fine at the scale of a commune). */
function pointSegmentMeters(p: Position, a: Position, b: Position): number {
  const k = Math.cos((p[1] * Math.PI) / 180) * METERS_PER_DEG_LAT;
  const [px, py, ax, ay, bx, by] = [p[0] * k, p[1] * METERS_PER_DEG_LAT, a[0] * k, a[1] * METERS_PER_DEG_LAT, b[0] * k, b[1] * METERS_PER_DEG_LAT];
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Neighbours: the polygons overlap or touch, or (rough data leaves gaps) come within `toleranceMeters` of each other. */
export function adjacent(a: Geometry, b: Geometry, toleranceMeters = 25): boolean {
  const margin = toleranceMeters / METERS_PER_DEG_LAT * 2;
  const ba = bbox(a);
  const bb = bbox(b);
  if (ba[0] > bb[2] + margin || bb[0] > ba[2] + margin || ba[1] > bb[3] + margin || bb[1] > ba[3] + margin) return false;
  if (booleanIntersects(a as never, b as never)) return true;
  for (const [g1, g2] of [[a, b], [b, a]] as const) {
    for (const poly of polygons(g1)) for (const p of poly[0]!) {
      for (const other of polygons(g2)) {
        const ring = other[0]!;
        for (let i = 1; i < ring.length; i++) if (pointSegmentMeters(p, ring[i - 1]!, ring[i]!) <= toleranceMeters) return true;
      }
    }
  }
  return false;
}

/** Projects lon/lat into an SVG box of the given width, keeping the aspect ratio of the area. */
export function projector(box: BBox, width: number, pad = 10) {
  const k = Math.cos((((box[1] + box[3]) / 2) * Math.PI) / 180);
  const w = Math.max((box[2] - box[0]) * k, 1e-9);
  const h = Math.max(box[3] - box[1], 1e-9);
  const scale = (width - 2 * pad) / w;
  const height = Math.round(h * scale + 2 * pad);
  return {
    width,
    height,
    x: (lon: number) => +(pad + (lon - box[0]) * k * scale).toFixed(1),
    y: (lat: number) => +(pad + (box[3] - lat) * scale).toFixed(1),
  };
}
