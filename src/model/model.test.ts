import { describe, expect, it } from 'vitest';
import { cornerIou, decode, nms } from './decode';
import { letterbox, rgbaToTensor } from './letterbox';
import { checkOutputClasses, checkOutputShape, end2endManifest, YOLOX_NANO, yoloxRows, yolov8Manifest } from './manifest';

describe('letterbox', () => {
  it('fits the long side and pads at the top-left, as YOLOX was trained', () => {
    expect(letterbox(640, 480, 416, 'top-left')).toEqual({ scale: 0.65, width: 416, height: 312, padX: 0, padY: 0, size: 416 });
    const portrait = letterbox(480, 640, 416, 'top-left');
    expect([portrait.width, portrait.height]).toEqual([312, 416]);
  });

  it('centres the image for centred models', () => {
    expect(letterbox(1280, 720, 640, 'center')).toMatchObject({ scale: 0.5, width: 640, height: 360, padX: 0, padY: 140 });
  });

  it('refuses an empty frame', () => {
    expect(() => letterbox(0, 10, 416, 'top-left')).toThrow(/empty/);
  });
});

describe('rgbaToTensor', () => {
  const tiny = (order: 'RGB' | 'BGR', scale = 1) => ({ ...YOLOX_NANO, input: { ...YOLOX_NANO.input, size: 2, channelOrder: order, scale } });
  // Four pixels: red, green, blue, grey 114.
  const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 114, 114, 114, 255]);

  it('writes planar BGR with raw 0–255 values for YOLOX', () => {
    expect([...rgbaToTensor(rgba, tiny('BGR'))]).toEqual([0, 0, 255, 114, 0, 255, 0, 114, 255, 0, 0, 114]);
  });

  it('writes planar RGB scaled to 0–1 for YOLOv8-style models', () => {
    const t = rgbaToTensor(rgba, tiny('RGB', 1 / 255));
    expect(t[0]).toBeCloseTo(1);
    expect(t[4 + 1]).toBeCloseTo(1);
    expect(t[8 + 2]).toBeCloseTo(1);
    expect(t[3]).toBeCloseTo(114 / 255);
  });

  it('checks the buffer size', () => {
    expect(() => rgbaToTensor(new Uint8Array(12), tiny('BGR'))).toThrow(/expected 16 RGBA bytes/);
  });
});

describe('decode (YOLOX)', () => {
  const rows = yoloxRows(416, [8, 16, 32]);
  const cols = 85;

  /** An output with one object in grid cell (gx, gy) of the given stride. */
  function output(cells: { stride: number; gx: number; gy: number; dx: number; dy: number; logW: number; logH: number; obj: number; cls: number; clsScore: number }[]) {
    const data = new Float32Array(rows * cols);
    for (const c of cells) {
      let row = 0;
      for (const s of [8, 16, 32]) {
        if (s === c.stride) break;
        row += (416 / s) ** 2;
      }
      row += c.gy * (416 / c.stride) + c.gx;
      const o = row * cols;
      data.set([c.dx, c.dy, c.logW, c.logH, c.obj], o);
      data[o + 5 + c.cls] = c.clsScore;
    }
    return data;
  }

  it('places a box from its grid cell, stride and exp size, then maps it back to source pixels', () => {
    // Stride 16, cell (10, 5), offset (0.5, 0.25): centre (168, 84) in input pixels; 32×64 box.
    const data = output([{ stride: 16, gx: 10, gy: 5, dx: 0.5, dy: 0.25, logW: Math.log(2), logH: Math.log(4), obj: 0.9, cls: 41, clsScore: 0.8 }]);
    const lb = letterbox(832, 624, 416, 'top-left'); // scale 0.5
    const [d, ...rest] = decode(YOLOX_NANO, data, [1, rows, cols], lb, 832, 624);
    expect(rest).toEqual([]);
    expect(d!.label).toBe('cup');
    expect(d!.score).toBeCloseTo(0.72);
    expect(d!.x).toBeCloseTo((168 - 16) * 2);
    expect(d!.y).toBeCloseTo((84 - 32) * 2);
    expect(d!.w).toBeCloseTo(64);
    expect(d!.h).toBeCloseTo(128);
  });

  it('scores are objectness × class score, and low ones are dropped', () => {
    const data = output([{ stride: 8, gx: 1, gy: 1, dx: 0, dy: 0, logW: 0, logH: 0, obj: 0.5, cls: 0, clsScore: 0.5 }]);
    expect(decode(YOLOX_NANO, data, [1, rows, cols], letterbox(416, 416, 416, 'top-left'), 416, 416)).toEqual([]);
  });

  it('clamps boxes to the frame', () => {
    const data = output([{ stride: 32, gx: 0, gy: 0, dx: 0, dy: 0, logW: Math.log(4), logH: Math.log(4), obj: 1, cls: 0, clsScore: 1 }]);
    const [d] = decode(YOLOX_NANO, data, [1, rows, cols], letterbox(416, 416, 416, 'top-left'), 416, 416);
    expect([d!.x, d!.y]).toEqual([0, 0]);
    expect(d!.w).toBeCloseTo(64);
    expect(d!.h).toBeCloseTo(64);
  });
});

describe('decode (YOLOv8)', () => {
  it('reads channel-major boxes without objectness and undoes a centred letterbox', () => {
    const m = yolov8Manifest({ id: 'v8', name: 'v8', size: 640 });
    const n = 3;
    const data = new Float32Array((4 + 80) * n);
    // Candidate 1: a dog at centre (320, 320), 100×50 input pixels, score 0.9.
    data[1] = 320; data[n + 1] = 320; data[2 * n + 1] = 100; data[3 * n + 1] = 50;
    data[(4 + 16) * n + 1] = 0.9;
    const lb = letterbox(1280, 720, 640, 'center'); // scale 0.5, padY 140
    const [d, ...rest] = decode(m, data, [1, 84, n], lb, 1280, 720);
    expect(rest).toEqual([]);
    expect(d!.label).toBe('dog');
    expect(d!.score).toBeCloseTo(0.9);
    expect(d!.x).toBeCloseTo((320 - 50) * 2);
    expect(d!.y).toBeCloseTo((320 - 25 - 140) * 2);
    expect(d!.w).toBeCloseTo(200);
    expect(d!.h).toBeCloseTo(100);
  });
});

describe('nms', () => {
  const box = (classId: number, score: number, x1: number) => ({ classId, score, x1, y1: 0, x2: x1 + 10, y2: 10 });

  it('suppresses overlapping boxes of the same class only, keeping the best', () => {
    const kept = nms([box(0, 0.6, 1), box(0, 0.9, 0), box(1, 0.5, 0), box(0, 0.4, 50)], 0.45);
    expect(kept.map((k) => [k.classId, k.score])).toEqual([[0, 0.9], [1, 0.5], [0, 0.4]]);
  });

  it('iou of identical boxes is 1 and of disjoint boxes 0', () => {
    expect(cornerIou(box(0, 1, 0), box(0, 1, 0))).toBe(1);
    expect(cornerIou(box(0, 1, 0), box(0, 1, 100))).toBe(0);
  });
});

describe('checkOutputShape: the class count', () => {
  const parts = yolov8Manifest({ id: 'p', name: 'parts.onnx', labels: ['torque wrench', 'bolt', 'nut'], labelsFrom: 'the labels file "parts.txt"' });

  it('names both counts when the layout fits but the classes do not', () => {
    expect(checkOutputShape(parts, [1, 7, 8400])).toBeUndefined();
    expect(checkOutputShape(parts, [1, 6, 8400])).toBe(`the labels file "parts.txt" names 3 classes but the model's output has 2 ([1, 6, 8400] is the YOLOv8 layout [1, 4 + classes, N])`);
    const yolox = { ...YOLOX_NANO, labels: parts.labels, labelsFrom: parts.labelsFrom };
    expect(checkOutputShape(yolox, [1, 3549, 85])).toBe(`the labels file "parts.txt" names 3 classes but the model's output has 80 ([1, 3549, 85] is the YOLOX layout [1, 3549, 5 + classes])`);
  });

  it("reads an end-to-end model's classes from its rows: a confident row past the names is refused", () => {
    const e2e = end2endManifest({ id: 'e', name: 'e.onnx', labels: ['torque wrench', 'bolt'], labelsFrom: "the model's metadata (names)" });
    expect(checkOutputClasses(e2e, [0, 0, 9, 9, 0.9, 1, 0, 0, 0, 0, 0, 0])).toBeUndefined();
    // An empty slot (score 0) of class 7 says nothing.
    expect(checkOutputClasses(e2e, [0, 0, 9, 9, 0.9, 1, 0, 0, 0, 0, 0, 7])).toBeUndefined();
    expect(checkOutputClasses(e2e, [0, 0, 9, 9, 0.9, 1, 0, 0, 9, 9, 0.5, 4])).toBe(`the model's metadata (names) names 2 classes but the model's output has a box of class 4, so at least 5`);
    expect(checkOutputClasses(yolov8Manifest({ id: 'a', name: 'a' }), [0, 0, 9, 9, 0.9, 400])).toBeUndefined();
  });
});

describe('checkOutputShape', () => {
  it('accepts YOLOX-Nano and explains a mismatch', () => {
    expect(checkOutputShape(YOLOX_NANO, [1, 3549, 85])).toBeUndefined();
    expect(checkOutputShape(YOLOX_NANO, [1, 8400, 85])).toMatch(/not the YOLOX layout \[1, 3549, 85\]/);
    expect(checkOutputShape(YOLOX_NANO, [1, 1000])).toMatch(/a detector with a \[1, …, …\] output was expected/);
    expect(checkOutputShape(yolov8Manifest({ id: 'a', name: 'a' }), [1, 84, 8400])).toBeUndefined();
    expect(checkOutputShape(yolov8Manifest({ id: 'a', name: 'a' }), [1, 85, 8400])).toBe("the list of COCO's 80 class names names 80 classes but the model's output has 81 ([1, 85, 8400] is the YOLOv8 layout [1, 4 + classes, N])");
  });
});
