import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { YOLOX_NANO, type ModelManifest } from '../model/manifest';
import type { Task } from '../task/types';
import { formatProblem, validateTask, type TaskProblem } from '../task/validate';

/**
 * Choose a task (the person's control, beside the guide), or — with `tools` — import one from a
 * file or write one, with every problem shown at its field (the developer's, in the drawer).
 */
@customElement('fw-task-picker')
export class TaskPicker extends LitElement {
  @property({ attribute: false }) tasks: readonly Task[] = [];
  @property() selected = '';
  @property({ type: Boolean }) tools = false;
  /** The active model: the editor checks labels against its names and suggests from them. */
  @property({ attribute: false }) model: Pick<ModelManifest, 'name' | 'labels'> | undefined;
  @state() private draft = '';
  @state() private problems: readonly TaskProblem[] = [];
  @state() private editing = false;

  static override styles = css`
    :host { display: block; }
    .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    select, button, textarea { font: inherit; }
    textarea { width: 100%; min-height: 260px; font-family: ui-monospace, monospace; font-size: 13px; background: #0b1220; color: #e2e8f0; border: 1px solid #334155; }
    ul.problems { color: #fca5a5; font: 13px ui-monospace, monospace; padding-left: 1.2em; }
    .ok { color: #86efac; }
  `;

  override willUpdate(changed: PropertyValues<this>): void {
    // Another model, other labels: the draft is judged again against them.
    if (changed.has('model') && this.draft) this.check(this.draft);
  }

  private get labels(): readonly string[] {
    return (this.model ?? YOLOX_NANO).labels;
  }

  override render() {
    return html`
      ${this.tools ? nothing : html`<div class="row">
        <label for="task">Task</label>
        <select id="task" .value=${this.selected} @change=${(e: Event) => this.emit('task-select', (e.target as HTMLSelectElement).value)}>
          <option value="" ?selected=${this.selected === ''}>No task: just detect</option>
          ${this.tasks.map((t) => html`<option value=${t.id} ?selected=${t.id === this.selected}>${t.title}</option>`)}
        </select>
      </div>`}
      ${this.tools ? this.renderTools() : nothing}
    `;
  }

  private renderTools() {
    return html`
      <div class="row">
        <label>Import <input type="file" accept=".json,application/json" @change=${this.onFile} aria-label="Import a task file" /></label>
        <button @click=${this.toggleEditor} aria-expanded=${this.editing}>${this.editing ? 'Close editor' : 'Write a task'}</button>
      </div>
      ${this.editing ? this.renderEditor() : nothing}
    `;
  }

  private renderEditor() {
    return html`
      <label for="editor">Task JSON</label>
      <p data-testid="editor-labels">Labels of the model "${(this.model ?? YOLOX_NANO).name}": ${this.labels.length > 40 ? `${this.labels.slice(0, 40).join(', ')}, … (${this.labels.length} in all)` : this.labels.join(', ')}</p>
      <textarea id="editor" spellcheck="false" .value=${this.draft} @input=${(e: Event) => this.check((e.target as HTMLTextAreaElement).value)}></textarea>
      ${this.problems.length
        ? html`<ul class="problems" data-testid="task-problems" aria-live="polite">${this.problems.map((p) => html`<li>${formatProblem(p)}</li>`)}</ul>`
        : html`<p class="ok" aria-live="polite">Valid task.</p>`}
      <button ?disabled=${this.problems.length > 0} @click=${this.save}>Save and use</button>
    `;
  }

  private toggleEditor(): void {
    this.editing = !this.editing;
    if (this.editing && !this.draft) {
      const current = this.tasks.find((t) => t.id === this.selected) ?? this.tasks[0];
      this.check(JSON.stringify({ ...current, id: `${current?.id ?? 'task'}-copy`, title: `${current?.title ?? 'Task'} (copy)` }, null, 2));
    }
  }

  private check(text: string): void {
    this.draft = text;
    try {
      this.problems = validateTask(JSON.parse(text), this.labels);
    } catch (err) {
      this.problems = [{ path: '', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }];
    }
  }

  private async onFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    // Imported tasks open in the editor: the person sees every problem where it is.
    this.editing = true;
    this.check(await file.text());
    if (this.problems.length === 0) this.save();
  }

  private save(): void {
    if (this.problems.length > 0) return;
    this.emit('task-save', JSON.parse(this.draft) as Task);
    this.editing = false;
    this.draft = '';
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-task-picker': TaskPicker;
  }
}
