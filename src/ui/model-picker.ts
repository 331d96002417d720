import { assertNever } from '../util/assert-never';
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { checkLabelsFileSize, ClassNamesError, parseLabelsFile, type ClassNames } from '../model/class-names';
import { end2endManifest, YOLOX_NANO, yolov8Manifest, type ModelManifest, type OutputDecoder } from '../model/manifest';
import type { ModelSource } from '../shared/protocol';

export interface ModelChoice {
  readonly manifest: ModelManifest;
  readonly source: ModelSource;
}

/**
 * Which workers run a model: `all` (the pool draws its boxes and the judge judges them), or
 * `judge` (only the task's judge runs it, on its own, e.g. a bigger model for verdicts; the
 * pool keeps the model it has for the overlay).
 */
export const MODEL_ROLES = ['all', 'judge'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** A person's own model, before its class names are settled: the labels file they gave, if any, wins over the model's own names. */
export interface OwnModelChoice extends ModelChoice {
  readonly labelsFile: ClassNames | undefined;
  readonly role: ModelRole;
}

/** A model to load, the built-in one for the overlay and verdicts, or `judge-off`: the judge stops running a model of its own. */
export type ModelChangeEvent = CustomEvent<OwnModelChoice | 'builtin' | 'judge-off'>;

/** Past this many, the picker says how many labels the model has rather than listing them. */
const LISTED_LABELS = 40;

/** Pick the built-in detector or load your own ONNX file or URL, saying how to read its output. */
@customElement('fw-model-picker')
export class ModelPicker extends LitElement {
  /** Name of the model that is running now. */
  @property() current = YOLOX_NANO.name;
  /** Name of the model the judge runs on its own, if it runs one other than `current`. */
  @property() judgeModel = '';
  /** The running model's class names. */
  @property({ attribute: false }) labels: readonly string[] = YOLOX_NANO.labels;
  @property({ type: Boolean }) busy = false;
  @state() private labelsFile: ClassNames | undefined;
  @state() private decoder: OutputDecoder = 'yolov8';
  @state() private size = 640;
  @state() private url = '';
  @state() private useFor: ModelRole = 'all';

  static override styles = css`
    :host { display: block; font-size: 14px; }
    details { background: #1e293b; border-radius: 6px; padding: 8px 12px; }
    summary { cursor: pointer; }
    form { display: grid; grid-template-columns: auto 1fr; gap: 6px 12px; align-items: center; margin-top: 8px; }
    input, select, button { font: inherit; }
    button { padding: 4px 12px; }
  `;

  override render() {
    return html`<details>
      <summary>Model: <b data-testid="model-name">${this.current}</b>${this.judgeModel ? html`; verdicts: <b data-testid="judge-model-name">${this.judgeModel}</b>` : ''}</summary>
      ${this.judgeModel ? html`<p>The task's judge runs ${this.judgeModel} on its own; the overlay shows ${this.current}. <button type="button" ?disabled=${this.busy} @click=${() => this.emit('judge-off')}>Judge on the overlay's detections again</button></p>` : ''}
      <p data-testid="model-labels">Detects ${this.labels.length > LISTED_LABELS ? `${this.labels.length} classes` : this.labels.join(', ')}</p>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <span>Built in</span>
        <span><button type="button" ?disabled=${this.busy} @click=${() => this.emit('builtin')}>Use ${YOLOX_NANO.name}</button></span>
        <label for="decoder">Output layout</label>
        <select id="decoder" .value=${this.decoder} @change=${(e: Event) => this.onDecoder((e.target as HTMLSelectElement).value as OutputDecoder)}>
          <option value="yolov8">YOLOv8-style [1, 4 + classes, N], RGB 0–1, centred</option>
          <option value="yolox">YOLOX [1, N, 5 + classes], BGR 0–255, top-left</option>
          <option value="end2end">End-to-end, NMS-free (YOLOv10, YOLO26) [1, N, 6], RGB 0–1, centred</option>
        </select>
        <label for="size">Input size (px)</label>
        <input id="size" type="number" min="32" max="2048" step="32" .value=${String(this.size)} @change=${(e: Event) => (this.size = Number((e.target as HTMLInputElement).value))} />
        <label for="role">Use it for</label>
        <select id="role" .value=${this.useFor} @change=${(e: Event) => (this.useFor = (e.target as HTMLSelectElement).value as ModelRole)}>
          <option value="all">The overlay and the verdicts</option>
          <option value="judge">The verdicts only (the task's judge runs it; the overlay keeps its model)</option>
        </select>
        <label for="labels">Labels file (optional)</label>
        <span><input id="labels" type="file" accept=".txt,.names,.json,.yaml,.yml,text/plain,application/json" ?disabled=${this.busy} @change=${this.onLabels} />
          ${this.labelsFile
            ? html`<span data-testid="labels-file">${this.labelsFile.labels.length} names from ${this.labelsFile.from}</span> <button type="button" @click=${() => (this.labelsFile = undefined)}>Forget</button>`
            : html`<span>else the names the model carries, else COCO's 80</span>`}</span>
        <label for="file">ONNX file</label>
        <input id="file" type="file" accept=".onnx,application/octet-stream" ?disabled=${this.busy} @change=${this.onFile} />
        <label for="url">or URL</label>
        <span><input id="url" type="url" placeholder="https://…/model.onnx" .value=${this.url} @input=${(e: Event) => (this.url = (e.target as HTMLInputElement).value)} />
          <button type="button" ?disabled=${this.busy || !this.url} @click=${this.onUrl}>Load</button></span>
      </form>
    </details>`;
  }

  private onDecoder(d: OutputDecoder): void {
    this.decoder = d;
    this.size = d === 'yolox' ? 416 : 640;
  }

  private manifestFor(name: string): ModelManifest {
    const id = `user:${name}`;
    switch (this.decoder) {
      case 'yolov8':
        return yolov8Manifest({ id, name, size: this.size, inputName: '' });
      case 'end2end':
        return end2endManifest({ id, name, size: this.size, inputName: '' });
      case 'yolox':
        return { ...YOLOX_NANO, id, name, input: { ...YOLOX_NANO.input, name: '', size: this.size } };
      default:
        return assertNever(this.decoder);
    }
  }

  private async onLabels(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      // The size first: a wrong file picked by mistake may be a video.
      checkLabelsFileSize(file.name, file.size);
      this.labelsFile = parseLabelsFile(file.name, await file.text());
    } catch (err) {
      this.labelsFile = undefined;
      this.dispatchEvent(new CustomEvent('model-error', { detail: err instanceof ClassNamesError ? `The labels cannot be used: ${err.message}.` : String(err), bubbles: true, composed: true }));
    }
  }

  private async onFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    const bytes = await file.arrayBuffer();
    input.value = '';
    this.emit({ manifest: this.manifestFor(file.name), source: { bytes, fileName: file.name }, labelsFile: this.labelsFile, role: this.useFor });
  }

  private onUrl(): void {
    let url: URL;
    try {
      url = new URL(this.url, location.href);
    } catch {
      this.dispatchEvent(new CustomEvent('model-error', { detail: `"${this.url}" is not a URL`, bubbles: true, composed: true }));
      return;
    }
    this.emit({ manifest: this.manifestFor(url.pathname.split('/').pop() || url.host), source: { url: url.href }, labelsFile: this.labelsFile, role: this.useFor });
  }

  private emit(detail: OwnModelChoice | 'builtin' | 'judge-off'): void {
    this.dispatchEvent(new CustomEvent('model-change', { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-model-picker': ModelPicker;
  }
}
