/** Where a source of srcW×srcH appears inside a box of boxW×boxH with `object-fit: contain`. */
export function fitContain(srcW: number, srcH: number, boxW: number, boxH: number): { scale: number; offsetX: number; offsetY: number } {
  if (!(srcW > 0 && srcH > 0)) return { scale: 0, offsetX: 0, offsetY: 0 };
  const scale = Math.min(boxW / srcW, boxH / srcH);
  return { scale, offsetX: (boxW - srcW * scale) / 2, offsetY: (boxH - srcH * scale) / 2 };
}
