import { describe, expect, it } from 'vitest';
import { HandsFreeController, type RecognitionClass } from './hands-free';

const host = () => ({ addController() {}, removeController() {}, requestUpdate() {}, updateComplete: Promise.resolve(true) });

function fakeRecognition(availability: string) {
  const made: FakeRecognition[] = [];
  const asked: unknown[] = [];
  class FakeRecognition {
    lang = '';
    continuous = false;
    interimResults = true;
    processLocally = false;
    localWhenStarted: boolean | undefined;
    aborted = false;
    onresult: ((e: { resultIndex: number; results: { isFinal: boolean; 0: { transcript: string } }[] }) => void) | null = null;
    onerror: ((e: { error: string }) => void) | null = null;
    onend: (() => void) | null = null;
    constructor() {
      made.push(this);
    }
    static available(o: unknown) {
      asked.push(o);
      return Promise.resolve(availability);
    }
    start() {
      this.localWhenStarted = this.processLocally;
    }
    abort() {
      this.aborted = true;
    }
  }
  return { cls: FakeRecognition as unknown as RecognitionClass, made, asked };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('voice control', () => {
  it('listens only on the device, hears whole-phrase commands, and stops when guidance stops', async () => {
    const f = fakeRecognition('available');
    const heard: string[] = [];
    const c = new HandsFreeController(host(), (x) => heard.push(x), () => f.cls);
    c.setActive(true, 'en-GB');
    await settle();
    expect(f.asked).toEqual([{ langs: ['en-GB'], processLocally: true }]);
    expect(c.voice).toEqual({ kind: 'listening', lang: 'en-GB' });
    const r = f.made[0]!;
    expect(r).toMatchObject({ localWhenStarted: true, lang: 'en-GB', continuous: true });
    r.onresult!({ resultIndex: 0, results: [{ isFinal: true, 0: { transcript: 'Next' } }, { isFinal: true, 0: { transcript: 'what is next' } }, { isFinal: false, 0: { transcript: 'back' } }] });
    expect(heard).toEqual(['next']);
    r.onend!(); // a continuous session ended on silence: it listens again
    expect(f.made).toHaveLength(1);
    c.setActive(false, 'en-GB');
    expect(r.aborted).toBe(true);
    expect(c.voice).toEqual({ kind: 'off' });
  });

  it('says so, and never starts a recogniser, where on-device recognition is missing', async () => {
    const f = fakeRecognition('downloadable');
    const c = new HandsFreeController(host(), () => {}, () => f.cls);
    c.setActive(true, 'en');
    await settle();
    expect(c.voice).toEqual({ kind: 'unavailable', lang: 'en', availability: 'downloadable' });
    expect(f.made).toEqual([]);
    const none = new HandsFreeController(host(), () => {}, () => undefined);
    none.setActive(true, 'en');
    await settle();
    expect(none.voice).toEqual({ kind: 'unsupported' });
  });
});
