/** The space around a chart's plot, for its axes' labels (drawing units). */
export interface ChartPadding {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A label on an axis at `at` (x for the bottom axis, y for the side ones). */
export interface ChartTick {
  at: number;
  label: string;
}

/** A round top for an axis, at least `max`: 1, 2, 5, 10, 20, 50, … */
export function roundTop(max: number): number {
  const top = Math.max(1, max);
  for (let step = 1; ; step *= 10) for (const m of [1, 2, 5]) if (m * step >= top) return m * step;
}

/** An SVG path through `points`, joined by straight lines. */
export const linePath = (points: ReadonlyArray<{ x: number; y: number }>): string =>
  points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
