import { classCountMismatch } from './class-names';
import { COCO_LABELS } from './labels';

/** The output layouts a manifest can name; anything that offers a choice of layout lists these. */
export const OUTPUT_DECODERS = ['yolox', 'yolov8', 'end2end'] as const;
export type OutputDecoder = (typeof OUTPUT_DECODERS)[number];

/**
 * One row of an end-to-end detector's [1, N, 6] output: corners in model-input pixels (the
 * letterboxed square), the score, and the class index carried as a float. The model has
 * already suppressed duplicates, so these rows are final.
 */
export const END2END_ROW = ['x1', 'y1', 'x2', 'y2', 'score', 'class'] as const;

/** How a detector wants its input and how to read its output: everything model-specific lives here. */
export interface ModelManifest {
  readonly id: string;
  readonly name: string;
  readonly input: {
    readonly name: string;
    /** Square input side, in pixels; the tensor is NCHW. */
    readonly size: number;
    readonly channelOrder: 'RGB' | 'BGR';
    /** value = (pixel0to255 × scale − mean[c]) / std[c], c in the model's channel order. */
    readonly scale: number;
    readonly mean: readonly [number, number, number];
    readonly std: readonly [number, number, number];
    /** Grey level (0–255) of the letterbox padding. */
    readonly fill: number;
    /** Where the resized image sits in the square. */
    readonly placement: 'top-left' | 'center';
    /**
     * How the frame is resized, exactly as the model's authors did in training:
     * `linear-half-pixel` is OpenCV's INTER_LINEAR (half-pixel centres, no antialiasing, uint8).
     */
    readonly resize: 'linear-half-pixel';
    /** The resized size: `floor` (YOLOX: int(w·r)) or `round` (Ultralytics: round(w·r)). */
    readonly fit: 'floor' | 'round';
  };
  readonly output: {
    /**
     * yolox: [1, N, 5 + classes], raw grid offsets; yolov8: [1, 4 + classes, N], decoded boxes, no objectness;
     * end2end: [1, N, 6] final boxes from an NMS-free head (YOLOv10, YOLO26), see END2END_ROW.
     */
    readonly decoder: OutputDecoder;
    /** yolox only: the grids' strides, in row order. */
    readonly strides?: readonly number[];
  };
  /** The class names, in the order of the output's class indices. */
  readonly labels: readonly string[];
  /** Where the labels came from, in words, for a mismatch message (`the labels file "parts.txt"`); absent: the built-in's own. */
  readonly labelsFrom?: string;
  readonly nmsIou: number;
  readonly scoreThreshold: number;
}

export const YOLOX_NANO: ModelManifest = Object.freeze({
  id: 'yolox-nano',
  name: 'YOLOX-Nano (COCO, 416)',
  input: { name: 'images', size: 416, channelOrder: 'BGR', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], fill: 114, placement: 'top-left', resize: 'linear-half-pixel', fit: 'floor' },
  output: { decoder: 'yolox', strides: [8, 16, 32] },
  labels: COCO_LABELS,
  nmsIou: 0.45,
  scoreThreshold: 0.3,
} as const);

/** A YOLOv8-style export (Ultralytics): RGB in 0–1, centred letterbox, [1, 84, 8400] out. */
export function yolov8Manifest(overrides: { id: string; name: string; size?: number; inputName?: string; labels?: readonly string[]; labelsFrom?: string }): ModelManifest {
  return {
    id: overrides.id,
    name: overrides.name,
    input: { name: overrides.inputName ?? 'images', size: overrides.size ?? 640, channelOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], fill: 114, placement: 'center', resize: 'linear-half-pixel', fit: 'round' },
    output: { decoder: 'yolov8' },
    labels: overrides.labels ?? COCO_LABELS,
    ...(overrides.labelsFrom === undefined ? {} : { labelsFrom: overrides.labelsFrom }),
    nmsIou: 0.45,
    scoreThreshold: 0.3,
  };
}

/** An NMS-free Ultralytics export (YOLOv10, YOLO26 end-to-end): YOLOv8's input, [1, N, 6] final boxes out. */
export function end2endManifest(overrides: Parameters<typeof yolov8Manifest>[0]): ModelManifest {
  return { ...yolov8Manifest(overrides), output: { decoder: 'end2end' } };
}

/** The rows a YOLOX head emits for a square input: one per grid cell over all strides. */
export function yoloxRows(size: number, strides: readonly number[]): number {
  return strides.reduce((n, s) => n + (size / s) * (size / s), 0);
}

/**
 * Checks an output shape against the manifest; returns a sentence saying what is wrong
 * (for the person who loaded the model), or undefined when it fits. When the layout is right
 * but the class count is not, the sentence names both counts.
 */
export function checkOutputShape(m: ModelManifest, dims: readonly number[]): string | undefined {
  const classes = m.labels.length;
  const shape = `[${dims.join(', ')}]`;
  const from = labelsFrom(m);
  // Checked before the generic rank test: whatever is wrong, the person needs to see the one layout that fits.
  if (m.output.decoder === 'end2end') {
    const fits = dims.length === 3 && dims[0] === 1 && dims[1]! >= 1 && dims[2] === END2END_ROW.length;
    return fits ? undefined : `the model's output is ${shape}, not the end-to-end layout [1, N, ${END2END_ROW.length}] (${END2END_ROW.join(', ')})`;
  }
  if (dims.length !== 3 || dims[0] !== 1) return `the model's output is ${shape}; a detector with a [1, …, …] output was expected`;
  if (m.output.decoder === 'yolox') {
    const rows = yoloxRows(m.input.size, m.output.strides ?? [8, 16, 32]);
    // The rows fit the input size: only the classes can be wrong.
    if (dims[1] === rows && dims[2]! > 5 && dims[2] !== 5 + classes) return `${classCountMismatch(from, classes, dims[2]! - 5)} (${shape} is the YOLOX layout [1, ${rows}, 5 + classes])`;
    if (dims[1] !== rows || dims[2] !== 5 + classes) return `the model's output is ${shape}, not the YOLOX layout [1, ${rows}, ${5 + classes}] for a ${m.input.size}px input and ${classes} classes`;
  } else if (dims[1] !== 4 + classes) {
    // More candidates than channels is what a YOLOv8 head looks like: then it is the class count that differs.
    if (dims[1]! > 4 && dims[2]! > dims[1]!) return `${classCountMismatch(from, classes, dims[1]! - 4)} (${shape} is the YOLOv8 layout [1, 4 + classes, N])`;
    return `the model's output is ${shape}, not the YOLOv8 layout [1, ${4 + classes}, N] for ${classes} classes`;
  }
  return undefined;
}

/**
 * An end-to-end output carries no class count in its shape: its rows' class indices are the
 * only witness. Checked on the warm-up output: a confident row of a class the names do not
 * cover means the names are wrong for this model (too few names cannot be seen this way).
 */
export function checkOutputClasses(m: ModelManifest, data: ArrayLike<number>): string | undefined {
  if (m.output.decoder !== 'end2end') return undefined;
  const width = END2END_ROW.length;
  let highest = -1;
  for (let r = 0; r + width <= data.length; r += width) {
    const score = data[r + 4]!;
    const classId = Math.round(data[r + 5]!);
    if (score > 0 && classId > highest) highest = classId;
  }
  if (highest < m.labels.length) return undefined;
  return classCountMismatch(labelsFrom(m), m.labels.length, `a box of class ${highest}, so at least ${highest + 1}`);
}

function labelsFrom(m: ModelManifest): string {
  return m.labelsFrom ?? (m.labels === COCO_LABELS ? `the list of COCO's ${COCO_LABELS.length} class names` : `the manifest of ${m.name}`);
}
