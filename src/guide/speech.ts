// Spoken guidance for a person whose hands are busy: each new instruction, step completion and
// derailment is said once, newest first, in the task's language.

/** What the guide needs of `window.speechSynthesis` (a fake in unit tests). */
export interface Synth {
  speak(utterance: SpeechSynthesisUtterance): void;
  cancel(): void;
  getVoices(): readonly Pick<SpeechSynthesisVoice, 'lang' | 'localService' | 'name'>[];
}

/** `repeat`: the standing instruction again, on request; `countdown`: a wait's time left. */
export type SpeechKind = 'instruction' | 'repeat' | 'completed' | 'derailed' | 'done' | 'countdown';

export type VoiceStatus =
  | { readonly kind: 'ok'; readonly voice: string; readonly offline: boolean }
  | { readonly kind: 'no-voice'; readonly lang: string }
  | { readonly kind: 'unsupported' };

const MUTE_KEY = 'framewise-speech-muted';

/** The best voice for a language: same language and region, else same language; an on-device voice first (it works offline). */
export function pickVoice<V extends Pick<SpeechSynthesisVoice, 'lang' | 'localService'>>(voices: readonly V[], lang: string): V | undefined {
  const norm = (l: string) => l.toLowerCase().replace('_', '-');
  const want = norm(lang);
  const base = want.split('-')[0]!;
  const rank = (v: V) => (norm(v.lang) === want ? 0 : norm(v.lang).split('-')[0] === base ? 2 : 9) + (v.localService ? 0 : 1);
  return [...voices].filter((v) => rank(v) < 9).sort((a, b) => rank(a) - rank(b))[0];
}

export class SpeechGuide {
  private standing = '';
  private mutedValue: boolean;

  constructor(
    private readonly synth: Synth | undefined,
    private readonly makeUtterance: (text: string) => SpeechSynthesisUtterance,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined,
  ) {
    this.mutedValue = storage?.getItem(MUTE_KEY) === 'true';
  }

  get muted(): boolean {
    return this.mutedValue;
  }

  /** Remembered across visits; muting also silences what is being said. */
  setMuted(muted: boolean): void {
    this.mutedValue = muted;
    this.storage?.setItem(MUTE_KEY, String(muted));
    if (muted) this.synth?.cancel();
  }

  status(lang: string): VoiceStatus {
    if (!this.synth) return { kind: 'unsupported' };
    const v = pickVoice(this.synth.getVoices(), lang);
    return v ? { kind: 'ok', voice: (v as { name?: string }).name ?? v.lang, offline: v.localService } : { kind: 'no-voice', lang };
  }

  /**
   * Says `text` unless muted or it is the instruction already standing (a `repeat` says it
   * anyway: the person asked). A countdown leaves the standing instruction as it is. At most one utterance
   * at a time: a newer one cuts the older off (the person needs the current state, not a queue).
   */
  announce(kind: SpeechKind, text: string, lang: string): boolean {
    if (kind === 'instruction' && text === this.standing) return false;
    if (kind !== 'countdown') this.standing = text;
    if (this.mutedValue || !this.synth || !text) return false;
    const u = this.makeUtterance(text);
    u.lang = lang;
    const voice = pickVoice(this.synth.getVoices(), lang);
    // No matching voice listed (some browsers list them late): the browser's default for `lang` still speaks.
    if (voice) u.voice = voice as SpeechSynthesisVoice;
    this.synth.cancel();
    this.synth.speak(u);
    return true;
  }

  /** A new task or a restart: the next instruction is new again. */
  reset(): void {
    this.standing = '';
    this.synth?.cancel();
  }
}
