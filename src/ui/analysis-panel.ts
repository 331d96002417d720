import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { timeLeftS, toCsv, toJson, type Analysis } from '../analysis/export';

/** Pick a video file, watch the progress, cancel, and export the results. */
@customElement('fw-analysis-panel')
export class AnalysisPanel extends LitElement {
  @property({ type: Boolean }) disabled = false;
  @property({ type: Number }) done = 0;
  @property({ type: Number }) total = 0;
  @property({ type: Number }) elapsedMs = 0;
  @property({ type: Boolean }) running = false;
  @property({ attribute: false }) result: Analysis | undefined;
  @state() private exported = '';

  static override styles = css`
    :host { display: block; background: #1e293b; border-radius: 6px; padding: 8px 12px; }
    progress { width: 100%; }
    .row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
    button, input { font: inherit; }
  `;

  override render() {
    const left = timeLeftS(this.done, this.total, this.elapsedMs);
    return html`
      <div class="row">
        <label>Analyse a video file <input type="file" accept="video/*" ?disabled=${this.disabled || this.running} @change=${this.onFile} /></label>
        ${this.running ? html`<button @click=${() => this.emit('analysis-cancel')}>Cancel</button>` : nothing}
      </div>
      ${this.running || this.result
        ? html`<progress max=${this.total || 1} value=${this.done} aria-label="Frames analysed"></progress>
            <div data-testid="analysis-progress" role="status">${this.done} / ${this.total} frames${this.running && left !== undefined ? ` · about ${Math.ceil(left)} s left` : ''}</div>`
        : nothing}
      ${this.result && !this.running
        ? html`<div class="row" data-testid="analysis-result">
            <span>${this.result.cancelled ? 'Cancelled after' : 'Done:'} ${this.result.rows.length} frames of ${this.result.fileName}${this.failed ? `, ${this.failed} could not be analysed` : ''}.</span>
            <button @click=${() => this.download('json')}>Export JSON</button>
            <button @click=${() => this.download('csv')}>Export CSV</button>
            <span aria-live="polite">${this.exported}</span>
          </div>`
        : nothing}
    `;
  }

  private get failed(): number {
    return this.result?.rows.filter((r) => r.error).length ?? 0;
  }

  private onFile(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) this.emit('analysis-start', file);
  }

  private download(kind: 'json' | 'csv'): void {
    const a = this.result;
    if (!a) return;
    const blob = new Blob([kind === 'json' ? toJson(a) : toCsv(a)], { type: kind === 'json' ? 'application/json' : 'text/csv' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${a.fileName.replace(/\.[^.]+$/, '')}-framewise.${kind}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    this.exported = `Saved ${link.download}`;
  }

  private emit(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-analysis-panel': AnalysisPanel;
  }
}
