// A person's own detector with its own classes, end to end: a model the test builds (an
// NMS-free end-to-end head with known boxes, its class names in the ONNX metadata as Ultralytics
// writes them) is loaded through the model picker like a user would; its names are on the boxes,
// the editor checks tasks against them, a task over them runs to the end, a task it cannot judge
// is refused by name, and the trainer's view and the record name its classes. Then the other way
// a model gets names (a labels file, one name per line) and a count that does not fit the output.
import { expect, test, type Page } from '@playwright/test';
import { BUILTIN_TASKS } from '../src/task/builtin';
import type { Task } from '../src/task/types';
import { ADMIN, serveBuiltApp, storedEvents } from './fixtures/backend';
import { constantDetectorModel, end2endModel, ultralyticsNames, type End2EndRow } from './fixtures/onnx-builder';
import { openTools } from './fixtures/ui';

const INPUT = 640;
const NAMES = ['torque wrench', 'bolt'];
// In model-input pixels: the wrench on the left, the bolt to its right, whatever the camera shows.
const ROWS: readonly End2EndRow[] = [
  [80, 200, 280, 440, 0.9, 0],
  [400, 260, 480, 340, 0.85, 1],
  [0, 0, 0, 0, 0, 0], // an unused slot
];
const PARTS_MODEL = end2endModel(INPUT, ROWS, { description: 'Ultralytics YOLO26n model trained on parts.yaml', names: ultralyticsNames(NAMES), stride: '32' });

const TIGHTEN: Task = {
  id: 'tighten',
  title: 'Tighten the bolt',
  steps: [
    { instruction: 'Show the torque wrench', require: [{ label: 'torque wrench' }], holdMs: 500 },
    { instruction: 'Put the bolt right of the torque wrench', require: [{ label: 'torque wrench' }, { label: 'bolt' }], relations: [{ subject: 'bolt', relation: 'right-of', object: 'torque wrench' }], holdMs: 500 },
  ],
  derail: [{ kind: 'must-stay', label: 'torque wrench' }],
};
const DESK = BUILTIN_TASKS.find((t) => t.id === 'desk-setup')!;

async function openModelPicker(page: Page) {
  await openTools(page);
  const picker = page.locator('fw-model-picker');
  if (!(await picker.locator('details').evaluate((d) => (d as HTMLDetailsElement).open))) await picker.locator('summary').click();
}

async function pickLabels(page: Page, name: string, text: string) {
  await openModelPicker(page);
  await page.getByLabel('Labels file (optional)').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
}

async function pickModel(page: Page, name: string, bytes: Uint8Array, layout: 'end2end' | 'yolov8', labels?: { name: string; text: string }, useFor: 'all' | 'judge' = 'all') {
  await openModelPicker(page);
  await page.getByLabel('Use it for').selectOption(useFor);
  await page.getByLabel('Output layout').selectOption(layout);
  if (labels) {
    await pickLabels(page, labels.name, labels.text);
    await expect(page.getByTestId('labels-file')).toContainText(`from the labels file "${labels.name}"`);
  }
  await page.getByLabel('ONNX file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
}

const served = serveBuiltApp(29000);

test('a model naming its own classes: its boxes, the editor, the task check, a completed task and the trainer\'s timeline all use its names', async ({ page, browser }) => {
  test.setTimeout(180_000);
  await page.addInitScript(() => {
    if (!localStorage.getItem('framewise-settings')) localStorage.setItem('framewise-settings', JSON.stringify({ deviceName: 'Parts bench' }));
  });
  await page.goto(`${served.base}/`);

  // Loaded while the camera is off: checked in a pipeline of its own, then kept for the camera.
  await pickModel(page, 'parts.onnx', PARTS_MODEL, 'end2end');
  await expect(page.getByTestId('model-name')).toHaveText('parts.onnx', { timeout: 60_000 });
  await expect(page.getByTestId('model-labels')).toHaveText('Detects torque wrench, bolt');
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);

  // A built-in task over COCO's classes cannot run on it: refused by name, nothing starts.
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await expect(page.getByTestId('error')).toHaveText(`The task "${DESK.title}" needs "laptop", "keyboard", "mouse", "cup", which the model "parts.onnx" does not detect. Choose a model that does, or another task.`);
  await expect(page.locator('fw-task-panel').getByTestId('instruction')).toHaveCount(0);

  // The editor judges labels by the model's names, and suggests from them.
  await page.getByRole('button', { name: 'Write a task' }).click();
  await expect(page.getByTestId('editor-labels')).toHaveText('Labels of the model "parts.onnx": torque wrench, bolt');
  const editor = page.getByLabel('Task JSON');
  const problems = page.getByTestId('task-problems');
  const wrong = structuredClone(TIGHTEN) as unknown as { steps: { require: { label: string }[] }[] };
  wrong.steps[0]!.require[0]!.label = 'torque wrnch';
  wrong.steps[1]!.require[1]!.label = 'hammer';
  await editor.fill(JSON.stringify(wrong));
  await expect(problems).toContainText('steps[0].require[0].label: "torque wrnch" is not a known label — did you mean "torque wrench"?');
  await expect(problems).toContainText('steps[1].require[1].label: "hammer" is not a known label');
  await expect(page.getByRole('button', { name: 'Save and use' })).toBeDisabled();
  await editor.fill(JSON.stringify(TIGHTEN));
  await expect(page.getByText('Valid task.')).toBeVisible();
  await page.getByRole('button', { name: 'Save and use' }).click();
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('tighten');
  await expect(page.locator('fw-task-panel').getByTestId('instruction')).toHaveText('Show the torque wrench');

  // On the camera: the boxes carry the model's names, and the task over them completes.
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('2 objects (torque wrench 90%, bolt 85%)', { timeout: 30_000 });
  await expect(page.locator('fw-task-panel').getByTestId('summary')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 20_000 });
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 30_000 });

  // The record: the session start names the model and its labels; what was seen is named by them, never by COCO.
  const sessions = (await (await fetch(`${served.base}/api/sessions`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { sessions: { sessionId: string }[] };
  expect(sessions.sessions).toHaveLength(1);
  const events = await storedEvents(served.base, sessions.sessions[0]!.sessionId);
  const start = events.find((e) => e.kind === 'session-start')!.payload as Record<string, unknown>;
  expect(start).toMatchObject({ task: 'tighten', modelName: 'parts.onnx', labels: NAMES });
  const seen = new Set(events.filter((e) => e.kind === 'state').flatMap((e) => Object.keys((e.payload as { objects: Record<string, number> }).objects)));
  expect([...seen].sort()).toEqual(['bolt', 'torque wrench']);

  // The trainer's timeline: the task's steps, and the instructions the person was given, in the model's words.
  const dash = await browser.newPage();
  await dash.goto(`${served.base}/dashboard`);
  await dash.getByLabel('Admin token').fill(ADMIN);
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await dash.locator('fw-sessions-list tr.session', { hasText: 'Parts bench' }).click();
  const view = dash.locator('fw-session-view');
  await expect(view.getByTestId('session-title')).toHaveText(`Parts bench · ${TIGHTEN.title}`);
  await expect(view.getByTestId('outcome')).toHaveText('Completed');
  const steps = view.locator('.step[role="row"]');
  await expect(steps).toHaveCount(2);
  await expect(steps.nth(1).getByTestId('instruction')).toHaveText('Put the bolt right of the torque wrench');
  const given = await view.getByTestId('given').allTextContents();
  expect(given.length).toBeGreaterThan(0);
  expect(given.some((g) => g.includes('torque wrench')), given.join(' | ')).toBe(true);
  await dash.close();

  // Back to the built-in model: the desk task, chosen again, now starts.
  await page.locator('fw-model-picker').getByRole('button', { name: /^Use / }).click();
  await expect(page.getByTestId('model-name')).toHaveText('YOLOX-Nano (COCO, 416)', { timeout: 60_000 });
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await expect(page.locator('fw-task-panel').getByTestId('instruction')).toHaveText(DESK.steps[0]!.instruction);
});

/** A YOLOv8-style head ([1, 4 + 2, N]) for two classes: one box of class 1 at the centre of the 640 input, the other candidates empty. */
function twoClassYolov8(): Uint8Array {
  // More candidates than channels, as in every real head (8400 at 640 px): that is how the shape shows its class count.
  const anchors = [[320, 320, 100, 100, 0.05, 0.9], ...Array.from({ length: 15 }, () => [0, 0, 0, 0, 0, 0])];
  // Row-major [1, channel, anchor]: each channel holds every anchor's value.
  const values = [0, 1, 2, 3, 4, 5].flatMap((c) => anchors.map((a) => a[c]!));
  return constantDetectorModel({ inputSize: INPUT, outputDims: [1, 6, anchors.length], values });
}

test('a labels file names a model\'s classes; one naming more classes than the output has is refused with both numbers', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  const model = twoClassYolov8();

  // A labels file that is not one: refused at once, saying why, and not kept.
  await pickLabels(page, 'dup.txt', 'nut\nnut\n');
  await expect(page.getByTestId('error')).toHaveText('The labels cannot be used: the labels file "dup.txt" names "nut" twice (line 1 and line 2); each class needs its own name.');
  await expect(page.getByTestId('labels-file')).toHaveCount(0);
  // Without names of its own or a labels file, a model is given COCO's, which do not fit two classes.
  await pickModel(page, 'fasteners.onnx', model, 'yolov8');
  await expect(page.getByTestId('error')).toContainText('The model "fasteners.onnx" cannot be used: the list of COCO\'s 80 class names, assumed since the model names no classes and no labels file was given, names 80 classes but the model\'s output has 2', { timeout: 60_000 });

  await pickModel(page, 'fasteners.onnx', model, 'yolov8', { name: 'three.txt', text: 'washer\nnut\nbolt\n' });
  await expect(page.getByTestId('error')).toContainText('The model "fasteners.onnx" cannot be used: the labels file "three.txt" names 3 classes but the model\'s output has 2', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('YOLOX-Nano (COCO, 416)');

  await pickModel(page, 'fasteners.onnx', model, 'yolov8', { name: 'fasteners.txt', text: 'washer\r\nnut\r\n' });
  await expect(page.getByTestId('labels-file')).toHaveText('2 names from the labels file "fasteners.txt"');
  await expect(page.getByTestId('model-name')).toHaveText('fasteners.onnx', { timeout: 60_000 });
  await expect(page.getByTestId('model-labels')).toHaveText('Detects washer, nut');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('1 objects (nut 90%)', { timeout: 30_000 });
});

test('a model loaded from a URL is read for its class names once its bytes arrive', async ({ page }) => {
  test.setTimeout(120_000);
  await page.route('**/models/parts-by-url.onnx', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(PARTS_MODEL) }));
  await page.goto('/');
  await openModelPicker(page);
  await page.getByLabel('Output layout').selectOption('end2end');
  await page.getByLabel('or URL').fill(new URL('/models/parts-by-url.onnx', page.url()).href);
  await page.locator('fw-model-picker').getByRole('button', { name: 'Load' }).click();
  await expect(page.getByTestId('model-name')).toHaveText('parts-by-url.onnx', { timeout: 60_000 });
  await expect(page.getByTestId('model-labels')).toHaveText('Detects torque wrench, bolt');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('last-result')).toContainText('2 objects (torque wrench 90%, bolt 85%)', { timeout: 30_000 });
});

test("a model only the judge runs: the overlay keeps its model, the verdicts and the task check use the judge's, and the judge can go back to the overlay's detections", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto(`${served.base}/`);
  await pickModel(page, 'parts.onnx', PARTS_MODEL, 'end2end', undefined, 'judge');
  await expect(page.getByTestId('judge-model-name')).toHaveText('parts.onnx', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toHaveText('YOLOX-Nano (COCO, 416)');

  // Tasks are checked against the judge's labels: the editor names its model, and a task over its classes is accepted.
  await page.getByRole('button', { name: 'Write a task' }).click();
  await expect(page.getByTestId('editor-labels')).toHaveText('Labels of the model "parts.onnx": torque wrench, bolt');
  await page.getByLabel('Task JSON').fill(JSON.stringify(TIGHTEN));
  await page.getByRole('button', { name: 'Save and use' }).click();
  await expect(page.locator('fw-task-panel').getByTestId('instruction')).toHaveText('Show the torque wrench');

  // On the camera: the overlay shows what YOLOX sees (never the judge's classes), the judge completes the task on its own model.
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.locator('fw-task-panel').getByTestId('summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('last-result')).toContainText(/on wasm/, { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).not.toContainText('torque wrench');
  await openTools(page);
  await page.getByText('Pipeline metrics').click();
  const hud = page.locator('fw-hud');
  await expect(hud.getByTestId('runs-state-1')).toHaveText('detector: parts.onnx');
  await expect(hud.getByTestId('runs-localization-1')).toHaveText('detector: YOLOX-Nano (COCO, 416)');

  // Back to judging on the overlay's detections: the judge runs no model, and the task over the parts model's classes is refused by name.
  await openModelPicker(page);
  await page.getByRole('button', { name: "Judge on the overlay's detections again" }).click();
  await expect(hud.getByTestId('runs-state-1')).toHaveText('judge', { timeout: 60_000 });
  await expect(page.getByTestId('judge-model-name')).toHaveCount(0);
  await expect(page.getByTestId('error')).toContainText('needs "torque wrench", "bolt", which the model "YOLOX-Nano (COCO, 416)" does not detect');
});
