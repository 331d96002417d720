import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { SpeechGuide, type VoiceStatus } from '../../guide/speech';
import { TaskGuide, type Announcement } from '../../guide/task-guide';
import type { Store } from '../../store/db';
import { WakeLockController } from './wake-lock';

/** An instruction must stand this long before it is said: objects moving about should not make the voice chatter. */
const SETTLE_MS = 400;

/**
 * The person's side of a running task: the guide's state for the page, its words spoken, and the
 * screen kept awake while a task runs.
 */
export class GuideController implements ReactiveController {
  readonly guide = new TaskGuide();
  readonly speech: SpeechGuide;
  readonly wakeLock: WakeLockController;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  private readonly onChange = () => this.host.requestUpdate();
  private readonly onAnnounce = (e: CustomEvent<Announcement>) => this.say(e.detail);
  private readonly onGuideError = (e: CustomEvent<string>) => this.onError(e.detail);

  constructor(private readonly host: ReactiveControllerHost, private readonly onError: (message: string) => void) {
    host.addController(this);
    const synth = typeof speechSynthesis === 'undefined' ? undefined : speechSynthesis;
    this.speech = new SpeechGuide(synth, (text) => new SpeechSynthesisUtterance(text), typeof localStorage === 'undefined' ? undefined : localStorage);
    this.wakeLock = new WakeLockController(host);
  }

  hostConnected(): void {
    this.guide.addEventListener('change', this.onChange);
    this.guide.addEventListener('announce', this.onAnnounce);
    this.guide.addEventListener('error', this.onGuideError);
  }

  hostDisconnected(): void {
    this.guide.removeEventListener('change', this.onChange);
    this.guide.removeEventListener('announce', this.onAnnounce);
    this.guide.removeEventListener('error', this.onGuideError);
    clearTimeout(this.pending);
    this.speech.reset();
  }

  async load(store: Store): Promise<void> {
    await this.guide.load(store);
  }

  /** Whether a task is being guided right now: the voice speaks and the screen stays on only then. */
  async setActive(active: boolean): Promise<void> {
    // Called after every render: only a change does anything.
    if (active === this.active) return;
    this.active = active;
    if (!active) {
      clearTimeout(this.pending);
      this.speech.reset();
    }
    await this.wakeLock.set(active);
  }

  get voice(): VoiceStatus {
    return this.speech.status(this.guide.lang);
  }

  /** What the person can count on: a voice (or why not), and the screen kept on while guiding (or why not). */
  aids(running: boolean) {
    const v = this.voice;
    const voice = v.kind === 'ok' ? `Voice: ${v.voice}${v.offline ? ' (works offline)' : ''}` : v.kind === 'no-voice' ? `No voice for "${v.lang}" on this device: instructions are shown only.` : 'This browser cannot speak: instructions are shown only.';
    const wake = { held: 'screen kept on', off: '', unsupported: 'this browser cannot keep the screen on', refused: 'the screen may turn off (the browser refused to keep it on)' }[this.wakeLock.state];
    return html`<span data-testid="voice-status">${voice}</span>${running && this.guide.session ? html` · <span data-testid="wake-status">${wake}</span>` : nothing}`;
  }

  toggleMute(): void {
    this.speech.setMuted(!this.speech.muted);
    this.host.requestUpdate();
  }

  private say(a: Announcement): void {
    clearTimeout(this.pending);
    if (a.kind !== 'instruction') {
      this.speech.announce(a.kind, a.text, a.lang);
      return;
    }
    this.pending = setTimeout(() => {
      // Only what still stands is said.
      const now = this.guide.instruction?.text ?? a.text;
      if (now === a.text) this.speech.announce('instruction', a.text, a.lang);
    }, SETTLE_MS);
  }
}
