import { describe, expect, it } from 'vitest';
import { end2endModel, ultralyticsNames } from '../../e2e/fixtures/onnx-builder';
import {
  chooseClassNames,
  classCountMismatch,
  classNamesFromOnnx,
  ClassNamesError,
  defaultClassNames,
  labelsFileFormat,
  MAX_CLASSES,
  MAX_LABELS_FILE_BYTES,
  parseLabelsFile,
  readOnnxMetadata,
} from './class-names';
import { COCO_LABELS } from './labels';

const ROWS = [[10, 10, 50, 50, 0.9, 0] as const];
const PARTS = ["{0: 'torque wrench', 1: 'bolt'}"];

describe('class names in an ONNX model', () => {
  it('reads Ultralytics names (a Python dict literal) from metadata_props after the graph', () => {
    const model = end2endModel(64, ROWS, { description: 'Ultralytics YOLO26n model', names: PARTS[0]!, stride: '32' });
    expect(readOnnxMetadata(model, 'parts.onnx')).toEqual(new Map([['description', 'Ultralytics YOLO26n model'], ['names', PARTS[0]], ['stride', '32']]));
    expect(classNamesFromOnnx(model, 'parts.onnx')).toEqual({ labels: ['torque wrench', 'bolt'], from: "the model's metadata (names)" });
  });

  it('reads the dict literal Python writes for a name with a quote, and unicode names', () => {
    const names = ["driver's side", 'Schraubenschlüssel', 'écrou'];
    expect(ultralyticsNames(names)).toBe(`{0: "driver's side", 1: 'Schraubenschlüssel', 2: 'écrou'}`);
    expect(classNamesFromOnnx(end2endModel(64, ROWS, { names: ultralyticsNames(names) }), 'm.onnx')?.labels).toEqual(names);
  });

  it('orders names by index, not by how the map lists them', () => {
    expect(classNamesFromOnnx(end2endModel(64, ROWS, { names: "{1: 'bolt', 0: 'nut'}" }), 'm.onnx')?.labels).toEqual(['nut', 'bolt']);
  });

  it('gives nothing for a model that names no classes (the caller falls back)', () => {
    expect(classNamesFromOnnx(end2endModel(64, ROWS), 'plain.onnx')).toBeUndefined();
    expect(classNamesFromOnnx(end2endModel(64, ROWS, { author: 'someone' }), 'plain.onnx')).toBeUndefined();
  });

  it('refuses a truncated model, saying where it breaks off', () => {
    const model = end2endModel(64, ROWS, { names: PARTS[0]! });
    const cut = model.subarray(0, model.length - 20);
    expect(() => classNamesFromOnnx(cut, 'cut.onnx')).toThrow(ClassNamesError);
    expect(() => classNamesFromOnnx(cut, 'cut.onnx')).toThrow(/^cut\.onnx is not a complete ONNX model: its protobuf breaks off or is malformed at byte \d+ of \d+/);
    // A length prefix that claims more than the file has (the graph's, say).
    expect(() => readOnnxMetadata(Uint8Array.from([0x08, 0x08, 0x3a, 0xff, 0xff, 0x03, 0x01]), 'short.onnx')).toThrow(/short\.onnx is not a complete ONNX model/);
  });

  it('refuses names that are not a map of index to name', () => {
    const names = (value: string) => () => classNamesFromOnnx(end2endModel(64, ROWS, { names: value }), 'm.onnx');
    expect(names("['bolt', 'nut']")).not.toThrow(); // a list is as good as a 0… map
    expect(names('bolt')).toThrow(`the model's metadata (names) holds the text "bolt", not class names (a list, or a map from class index to name)`);
    expect(names("{0: 'bolt', 2: 'nut'}")).toThrow(`the model's metadata (names): "2" is not a class index from 0 to 1 (a map must number its 2 classes 0, 1, 2, …)`);
    expect(names("{a: 'bolt'}")).toThrow(`"a" is not a class index`);
    expect(names('{0: 7}')).toThrow(`the model's metadata (names): class 0 is the number 7, not a name`);
    expect(names("{0: 'bolt'")).toThrow(/^the model's metadata \(names\) cannot be read as YAML: /);
    expect(names("{0: 'bolt', 0: 'nut'}")).toThrow(/cannot be read as YAML: Map keys must be unique/);
  });

  it('refuses duplicate and empty names', () => {
    const names = (value: string) => () => classNamesFromOnnx(end2endModel(64, ROWS, { names: value }), 'm.onnx');
    expect(names("{0: 'bolt', 1: 'nut', 2: 'bolt'}")).toThrow(`the model's metadata (names) names "bolt" twice (class 0 and class 2); each class needs its own name`);
    expect(names("{0: 'bolt', 1: ''}")).toThrow(`the model's metadata (names): class 1 has an empty name`);
    expect(names('{}')).toThrow(`the model's metadata (names) names no classes`);
  });

  it('does not expand YAML aliases (a billion laughs stays out)', () => {
    expect(() => classNamesFromOnnx(end2endModel(64, ROWS, { names: '{0: &a bolt, 1: *a}' }), 'm.onnx')).toThrow(/cannot be read as YAML/);
  });

  it('refuses a metadata entry claiming a huge length before reading it', () => {
    // metadata_props { key: "names", value: <length 2 MiB, nothing after> }
    const entry = Uint8Array.from([0x0a, 0x05, ...new TextEncoder().encode('names'), 0x12, 0x80, 0x80, 0x80, 0x01]);
    const file = Uint8Array.from([0x08, 0x08, 0x72, entry.length, ...entry]);
    expect(() => readOnnxMetadata(file, 'huge.onnx')).toThrow(`huge.onnx's metadata has an entry of 2097152 bytes; at most ${MAX_LABELS_FILE_BYTES} are read`);
  });
});

describe('a labels file', () => {
  it('reads one name per line, ignoring the final newline and Windows line ends', () => {
    expect(parseLabelsFile('parts.txt', 'torque wrench\r\nbolt\r\n\r\n')).toEqual({ labels: ['torque wrench', 'bolt'], from: 'the labels file "parts.txt"' });
    expect(parseLabelsFile('classes', '\uFEFFtorque wrench\n  bolt  \n').labels).toEqual(['torque wrench', 'bolt']);
  });

  it('refuses a blank line between names, naming the line', () => {
    expect(() => parseLabelsFile('parts.txt', 'torque wrench\n\nbolt\n')).toThrow('the labels file "parts.txt": line 2 has an empty name');
  });

  it('reads JSON as a list, an index map, or under "names"', () => {
    expect(parseLabelsFile('parts.json', '["torque wrench", "bolt"]').labels).toEqual(['torque wrench', 'bolt']);
    expect(parseLabelsFile('parts.json', '{"1": "bolt", "0": "torque wrench"}').labels).toEqual(['torque wrench', 'bolt']);
    expect(parseLabelsFile('parts.json', '{"names": {"0": "torque wrench", "1": "bolt"}}').labels).toEqual(['torque wrench', 'bolt']);
    expect(() => parseLabelsFile('parts.json', '{"names": "bolt"}')).toThrow('the labels file "parts.json" holds the text "bolt", not class names (a list, or a map from class index to name, or either under "names")');
    expect(() => parseLabelsFile('parts.json', '["bolt", 3]')).toThrow('the labels file "parts.json": class 1 is the number 3, not a name');
    expect(() => parseLabelsFile('parts.json', '["bolt",')).toThrow(/^the labels file "parts\.json" is not valid JSON: /);
  });

  it('reads an Ultralytics data.yaml, names as a map or a list', () => {
    const dataYaml = 'path: ../datasets/parts\ntrain: images/train\nval: images/val\n\nnames:\n  0: torque wrench\n  1: bolt\n';
    expect(parseLabelsFile('data.yaml', dataYaml).labels).toEqual(['torque wrench', 'bolt']);
    expect(parseLabelsFile('data.yml', 'nc: 2\nnames: [torque wrench, bolt]\n').labels).toEqual(['torque wrench', 'bolt']);
    // No extension: the `names:` line says YAML.
    expect(parseLabelsFile('dataset', 'names:\n  - torque wrench\n  - bolt\n').labels).toEqual(['torque wrench', 'bolt']);
  });

  it('refuses a YAML file whose names are not a list or map, or are duplicated', () => {
    expect(() => parseLabelsFile('data.yaml', 'names: 3\n')).toThrow('the labels file "data.yaml" holds the number 3, not class names');
    expect(() => parseLabelsFile('data.yaml', 'names: [bolt, bolt]\n')).toThrow('the labels file "data.yaml" names "bolt" twice (class 0 and class 1)');
  });

  it('tells formats apart by extension first, then by content', () => {
    expect(labelsFileFormat('a.JSON', 'bolt')).toBe('json');
    expect(labelsFileFormat('a.txt', '["bolt"]')).toBe('lines');
    expect(labelsFileFormat('labels', ' ["bolt"]')).toBe('json');
    expect(labelsFileFormat('labels', 'bolt\nnut')).toBe('lines');
  });

  it('refuses a huge file, too many classes, and names too long to be labels', () => {
    expect(() => parseLabelsFile('big.txt', 'x'.repeat(MAX_LABELS_FILE_BYTES + 1))).toThrow('the labels file "big.txt" is 1.0 MiB; a labels file is at most 1.0 MiB');
    const many = Array.from({ length: MAX_CLASSES + 1 }, (_, i) => `c${i}`).join('\n');
    expect(() => parseLabelsFile('many.txt', many)).toThrow(`the labels file "many.txt" names ${MAX_CLASSES + 1} classes; at most ${MAX_CLASSES} are accepted`);
    expect(() => parseLabelsFile('long.txt', `bolt\n${'a'.repeat(101)}\n`)).toThrow(`the labels file "long.txt": line 2's name is 101 characters long; a label is at most 100`);
  });
});

describe('which names a model gets', () => {
  const file = { labels: ['a', 'b', 'c'], from: 'the labels file "parts.txt"' };
  const meta = { labels: ['torque wrench', 'bolt'], from: "the model's metadata (names)" };
  const coco = defaultClassNames(COCO_LABELS);

  it('prefers the labels file, then the model, then COCO', () => {
    expect(chooseClassNames(file, meta, coco)).toBe(file);
    expect(chooseClassNames(undefined, meta, coco)).toBe(meta);
    expect(chooseClassNames(undefined, undefined, coco).labels).toHaveLength(80);
  });

  it('says a mismatch with both numbers', () => {
    expect(classCountMismatch(file.from, 3, 2)).toBe(`the labels file "parts.txt" names 3 classes but the model's output has 2`);
  });
});
