/**
 * Minimum-cost one-to-one assignment (the Hungarian method with row/column potentials and
 * shortest augmenting paths, O(n²·m)). Pairs whose cost is at or above `forbidden` are never
 * returned: that is how a gate such as "IoU below 0.2 is no match" is expressed.
 */
export function assign(cost: readonly (readonly number[])[], forbidden = Infinity): [row: number, col: number][] {
  const rows = cost.length;
  const cols = rows ? cost[0]!.length : 0;
  if (!rows || !cols) return [];
  // The method wants rows ≤ columns: solve the transpose otherwise.
  if (rows > cols) return assign(transpose(cost), forbidden).map(([c, r]) => [r, c]);
  // A finite stand-in for forbidden pairs keeps the potentials finite; it is filtered out below.
  const big = 1 + cost.reduce((m, row) => row.reduce((mm, c) => (c < forbidden && c > mm ? c : mm), m), 0) * (rows + 1);
  const at = (r: number, c: number) => {
    const x = cost[r]![c]!;
    return x >= forbidden || !Number.isFinite(x) ? big : x;
  };
  // 1-based arrays: column 0 is the virtual start of each augmenting path.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const rowOfCol = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  for (let r = 1; r <= rows; r++) {
    rowOfCol[0] = r;
    let col0 = 0;
    const minv = new Float64Array(cols + 1).fill(Infinity);
    const used = new Uint8Array(cols + 1);
    do {
      used[col0] = 1;
      const r0 = rowOfCol[col0]!;
      let delta = Infinity;
      let col1 = 0;
      for (let c = 1; c <= cols; c++) {
        if (used[c]) continue;
        const reduced = at(r0 - 1, c - 1) - u[r0]! - v[c]!;
        if (reduced < minv[c]!) {
          minv[c] = reduced;
          way[c] = col0;
        }
        if (minv[c]! < delta) {
          delta = minv[c]!;
          col1 = c;
        }
      }
      for (let c = 0; c <= cols; c++) {
        if (used[c]) {
          u[rowOfCol[c]!]! += delta;
          v[c]! -= delta;
        } else minv[c]! -= delta;
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    do {
      const col1 = way[col0]!;
      rowOfCol[col0] = rowOfCol[col1]!;
      col0 = col1;
    } while (col0);
  }
  const out: [number, number][] = [];
  for (let c = 1; c <= cols; c++) {
    const r = rowOfCol[c]!;
    if (r && cost[r - 1]![c - 1]! < forbidden) out.push([r - 1, c - 1]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function transpose(m: readonly (readonly number[])[]): number[][] {
  return m[0]!.map((_, c) => m.map((row) => row[c]!));
}
