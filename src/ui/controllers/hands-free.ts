import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { keyBelongsToFocus, keyCommand, voiceCommand, type HandsFreeCommand, type VoiceControlState } from '../../guide/hands-free';

/** What the controller needs of a Web Speech API recogniser (the standard, unprefixed one). */
interface Recognition {
  lang: string;
  continuous: boolean;
  interimResults: boolean;
  processLocally: boolean;
  onresult: ((e: { resultIndex: number; results: ArrayLike<{ isFinal: boolean; 0: { transcript: string } }> }) => void) | null;
  onerror: ((e: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  abort(): void;
}
export interface RecognitionClass {
  new (): Recognition;
  available(options: { langs: string[]; processLocally: boolean }): Promise<string>;
}

/**
 * The recogniser, only where it can be told to stay on the device: `SpeechRecognition.available`
 * with `processLocally`, and the `processLocally` attribute. The prefixed `webkitSpeechRecognition`
 * and a recogniser without `processLocally` may send audio to a server: never used.
 */
export function onDeviceRecognition(): RecognitionClass | undefined {
  const ctor = (globalThis as { SpeechRecognition?: RecognitionClass & { prototype: object } }).SpeechRecognition;
  return ctor && typeof ctor.available === 'function' && 'processLocally' in ctor.prototype ? ctor : undefined;
}

/** Errors that only mean "nothing was said for a while" or "we stopped it": listening goes on. */
const QUIET_ERRORS = ['no-speech', 'aborted'];

/**
 * Hands-free control while a task is guided: keys on the whole page (never those meant for a
 * focused field or button), and spoken "next", "repeat", "back" where the browser can recognise
 * speech on the device. The recogniser is started when guidance starts and stopped when it stops
 * or the host goes away; it restarts itself when a continuous session ends on silence.
 */
export class HandsFreeController implements ReactiveController {
  voice: VoiceControlState = { kind: 'off' };
  private active = false;
  private lang = 'en';
  private recognition: Recognition | undefined;
  /** Bumped on every start and stop: an answer from an older start is ignored. */
  private generation = 0;
  private readonly onKey = (e: KeyboardEvent) => {
    if (!this.active || e.defaultPrevented) return;
    const c = keyCommand(e);
    if (!c || keyBelongsToFocus(e.composedPath())) return;
    e.preventDefault(); // Space would scroll the page
    this.onCommand(c);
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onCommand: (c: HandsFreeCommand) => void,
    private readonly recognitionClass: () => RecognitionClass | undefined = onDeviceRecognition,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('keydown', this.onKey);
  }

  hostDisconnected(): void {
    document.removeEventListener('keydown', this.onKey);
    this.stopVoice();
    this.active = false;
  }

  /** Called after every render: only a change (guidance on or off, a new language) does anything. */
  setActive(active: boolean, lang: string): void {
    if (active === this.active && lang === this.lang) return;
    this.active = active;
    this.lang = lang;
    this.stopVoice();
    if (active) void this.startVoice(lang);
  }

  private set(voice: VoiceControlState): void {
    this.voice = voice;
    this.host.requestUpdate();
  }

  private async startVoice(lang: string): Promise<void> {
    const gen = ++this.generation;
    const Ctor = this.recognitionClass();
    if (!Ctor) return this.set({ kind: 'unsupported' });
    this.set({ kind: 'checking' });
    let availability: string;
    try {
      availability = await Ctor.available({ langs: [lang], processLocally: true });
    } catch {
      availability = 'unavailable';
    }
    if (gen !== this.generation) return;
    if (availability !== 'available') return this.set({ kind: 'unavailable', lang, availability });
    const r = new Ctor();
    r.processLocally = true;
    r.lang = lang;
    r.continuous = true;
    r.interimResults = false;
    r.onresult = (e) => {
      for (let i = e.resultIndex; i < e.results.length; i++) {
        const result = e.results[i]!;
        const c = result.isFinal ? voiceCommand(result[0].transcript, lang) : undefined;
        if (c && this.active) this.onCommand(c);
      }
    };
    r.onerror = (e) => {
      if (QUIET_ERRORS.includes(e.error) || gen !== this.generation) return;
      this.recognition = undefined;
      this.set({ kind: 'failed', error: e.error });
    };
    r.onend = () => {
      if (gen !== this.generation || this.recognition !== r) return;
      try {
        r.start();
      } catch (err) {
        this.recognition = undefined;
        this.set({ kind: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
    };
    this.recognition = r;
    try {
      r.start();
      this.set({ kind: 'listening', lang });
    } catch (err) {
      this.recognition = undefined;
      this.set({ kind: 'failed', error: err instanceof Error ? err.message : String(err) });
    }
  }

  private stopVoice(): void {
    this.generation++;
    const r = this.recognition;
    this.recognition = undefined;
    r?.abort();
    if (this.voice.kind !== 'off') this.set({ kind: 'off' });
  }
}
