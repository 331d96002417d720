import { describe, expect, it } from 'vitest';
import { pickVoice, SpeechGuide, type Synth } from './speech';

class FakeSynth implements Synth {
  spoken: { text: string; lang: string; voice?: string }[] = [];
  cancels = 0;
  constructor(private readonly voices: { lang: string; localService: boolean; name: string }[] = []) {}
  speak(u: SpeechSynthesisUtterance): void {
    this.spoken.push({ text: u.text, lang: u.lang, voice: u.voice?.name });
  }
  cancel(): void {
    this.cancels++;
  }
  getVoices() {
    return this.voices;
  }
}

const utterance = (text: string) => ({ text, lang: '', voice: null }) as unknown as SpeechSynthesisUtterance;
const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
};

describe('spoken guidance', () => {
  it('says each new instruction once while it stands, and says completions and derailments', () => {
    const synth = new FakeSynth([{ lang: 'en-US', localService: true, name: 'Local English' }]);
    const g = new SpeechGuide(synth, utterance, memory());
    expect(g.announce('instruction', 'Put the laptop in view', 'en')).toBe(true);
    expect(g.announce('instruction', 'Put the laptop in view', 'en')).toBe(false);
    g.announce('completed', 'Step 1 done', 'en');
    g.announce('instruction', 'Sit at the keyboard', 'en');
    g.announce('derailed', 'The cup left the view — bring it back', 'en');
    // Back on track: the step's instruction stands again, so it is said again.
    g.announce('instruction', 'Sit at the keyboard', 'en');
    expect(synth.spoken.map((s) => s.text)).toEqual(['Put the laptop in view', 'Step 1 done', 'Sit at the keyboard', 'The cup left the view — bring it back', 'Sit at the keyboard']);
    expect(synth.spoken.every((s) => s.lang === 'en' && s.voice === 'Local English')).toBe(true);
  });

  it('repeat says the standing instruction again; a countdown does not make it new again', () => {
    const synth = new FakeSynth();
    const g = new SpeechGuide(synth, utterance, memory());
    g.announce('instruction', 'Let the glue set: 30 seconds', 'en');
    expect(g.announce('repeat', 'Let the glue set: 30 seconds', 'en')).toBe(true);
    g.announce('countdown', '10 seconds left', 'en');
    expect(g.announce('instruction', 'Let the glue set: 30 seconds', 'en')).toBe(false);
    expect(synth.spoken.map((s) => s.text)).toEqual(['Let the glue set: 30 seconds', 'Let the glue set: 30 seconds', '10 seconds left']);
  });

  it('one utterance at a time: each new one cancels what is being said', () => {
    const synth = new FakeSynth();
    const g = new SpeechGuide(synth, utterance, memory());
    g.announce('instruction', 'a', 'en');
    g.announce('instruction', 'b', 'en');
    expect(synth.cancels).toBe(2);
    expect(synth.spoken).toHaveLength(2);
  });

  it('mute silences and is remembered', () => {
    const store = memory();
    const synth = new FakeSynth();
    const g = new SpeechGuide(synth, utterance, store);
    g.setMuted(true);
    expect(g.announce('instruction', 'x', 'en')).toBe(false);
    expect(synth.spoken).toEqual([]);
    expect(new SpeechGuide(synth, utterance, store).muted).toBe(true);
  });

  it('picks the task language, an on-device voice first, and says when there is none', () => {
    const voices = [
      { lang: 'en-GB', localService: false, name: 'Cloud GB' },
      { lang: 'de-DE', localService: false, name: 'Cloud DE' },
      { lang: 'de-DE', localService: true, name: 'Local DE' },
      { lang: 'en-US', localService: true, name: 'Local US' },
    ];
    expect(pickVoice(voices, 'de')?.name).toBe('Local DE');
    expect(pickVoice(voices, 'en-GB')?.name).toBe('Cloud GB');
    expect(pickVoice(voices, 'fr')).toBeUndefined();
    const g = new SpeechGuide(new FakeSynth(voices), utterance, memory());
    expect(g.status('fr')).toEqual({ kind: 'no-voice', lang: 'fr' });
    expect(g.status('de')).toEqual({ kind: 'ok', voice: 'Local DE', offline: true });
    expect(new SpeechGuide(undefined, utterance, memory()).status('en')).toEqual({ kind: 'unsupported' });
  });
});
