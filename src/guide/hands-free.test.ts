import { describe, expect, it } from 'vitest';
import { keyBelongsToFocus, keyCommand, voiceCommand, voiceControlText } from './hands-free';

const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, altKey: false, ctrlKey: false, metaKey: false, repeat: false, ...mods });
const el = (tagName: string, attrs: Record<string, string> = {}, isContentEditable = false) => ({ tagName, isContentEditable, getAttribute: (n: string) => attrs[n] ?? null }) as unknown as EventTarget;

describe('hands-free control', () => {
  it('maps plain keys to commands, and ignores modified and held keys', () => {
    expect([' ', 'Enter', 'n', 'N', 'r', 'b', 'Backspace', 'x'].map((k) => keyCommand(key(k)))).toEqual(['next', 'next', 'next', 'next', 'repeat', 'back', 'back', undefined]);
    expect(keyCommand(key('r', { ctrlKey: true }))).toBeUndefined();
    expect(keyCommand(key(' ', { repeat: true }))).toBeUndefined();
  });

  it('leaves keys to text fields, buttons and other controls, inside shadow roots too', () => {
    expect(keyBelongsToFocus([el('TEXTAREA'), el('FW-TASK-PICKER'), el('BODY')])).toBe(true);
    expect(keyBelongsToFocus([el('BUTTON')])).toBe(true);
    expect(keyBelongsToFocus([el('DIV', {}, true)])).toBe(true);
    expect(keyBelongsToFocus([el('DIV', { role: 'textbox' })])).toBe(true);
    expect(keyBelongsToFocus([el('DIV'), el('FW-APP'), el('BODY'), el('HTML')])).toBe(false);
  });

  it('hears a command only when the whole phrase is one, in the task language', () => {
    expect(voiceCommand('Next')).toBe('next');
    expect(voiceCommand(' go back. ')).toBe('back');
    expect(voiceCommand('repeat')).toBe('repeat');
    expect(voiceCommand('what comes next')).toBeUndefined();
    expect(voiceCommand('weiter', 'de-DE')).toBe('next');
    expect(voiceCommand('next', 'fr')).toBe('next');
  });

  it('says why voice control is off, and what to use instead', () => {
    expect(voiceControlText({ kind: 'unsupported' })).toBe('Voice control needs on-device speech recognition, which this browser lacks: use the button, Space or Enter.');
    expect(voiceControlText({ kind: 'unavailable', lang: 'en', availability: 'downloadable' })).toContain('not installed on this device');
    expect(voiceControlText({ kind: 'listening', lang: 'en' })).toContain('no audio leaves the device');
  });
});
