/** How the CLI prints: JSON for scripts, plain text tables and lines for people. */
export interface EventRow {
  id: string;
  type: string;
  createdAt: string;
  summary: string;
  payload: Record<string, unknown>;
}

export function print(json: boolean, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human());
}

export function formatEvent(e: EventRow): string {
  return `${e.id.padStart(6)}  ${e.createdAt}  ${e.type.padEnd(14)}  ${e.summary}`;
}

export function table(head: string[], rows: unknown[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
