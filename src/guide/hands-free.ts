// Hands-free control of a guided task: the words and keys that mean next, repeat and back.
// Pure: the controller (src/ui/controllers/hands-free.ts) owns the listeners and the recogniser.
import { assertNever } from '../util/assert-never';

export const HANDS_FREE_COMMANDS = ['next', 'repeat', 'back'] as const;
export type HandsFreeCommand = (typeof HANDS_FREE_COMMANDS)[number];

/** The keys, as the README and the panel list them. */
export const KEYS: Readonly<Record<HandsFreeCommand, readonly string[]>> = {
  next: [' ', 'Enter', 'n'],
  repeat: ['r'],
  back: ['b', 'Backspace'],
};

/** What a key press asks for, if anything: plain keys only (no modifier), never a held key's repeats. */
export function keyCommand(e: Pick<KeyboardEvent, 'key' | 'altKey' | 'ctrlKey' | 'metaKey' | 'repeat'>): HandsFreeCommand | undefined {
  if (e.altKey || e.ctrlKey || e.metaKey || e.repeat) return undefined;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return HANDS_FREE_COMMANDS.find((c) => KEYS[c].includes(key));
}

/**
 * Whether a key press belongs to what has focus rather than to the guide: text fields, lists,
 * editable content, and buttons, links and summaries (their own Space and Enter activate them).
 * `path` is the event's composed path, so that focus inside a shadow root counts.
 */
export function keyBelongsToFocus(path: readonly EventTarget[]): boolean {
  for (const t of path) {
    const el = t as Partial<HTMLElement> & { tagName?: string; isContentEditable?: boolean; getAttribute?: (n: string) => string | null };
    if (typeof el.tagName !== 'string') continue;
    const tag = el.tagName.toLowerCase();
    if (['input', 'textarea', 'select', 'button', 'a', 'summary', 'option'].includes(tag) || el.isContentEditable) return true;
    const role = el.getAttribute?.('role');
    if (role && ['textbox', 'button', 'link', 'combobox', 'listbox', 'menuitem', 'slider', 'spinbutton', 'checkbox', 'radio', 'tab', 'switch'].includes(role)) return true;
  }
  return false;
}

/** The words each command answers to, per language (the first part of a BCP 47 tag); English is the fallback. */
const WORDS: Readonly<Record<string, Readonly<Record<HandsFreeCommand, readonly string[]>>>> = {
  en: { next: ['next', 'done', 'confirm', 'continue'], repeat: ['repeat', 'again', 'say again'], back: ['back', 'go back', 'previous'] },
  de: { next: ['weiter', 'fertig', 'nächster'], repeat: ['wiederholen', 'nochmal', 'noch mal'], back: ['zurück'] },
};

/**
 * The command a recognised phrase gives, if it is one: the whole phrase must be a command word
 * (a sentence that merely contains "next" is conversation, not a command).
 */
export function voiceCommand(transcript: string, lang = 'en'): HandsFreeCommand | undefined {
  const words = WORDS[lang.toLowerCase().split('-')[0]!] ?? WORDS.en!;
  const said = transcript.toLowerCase().replace(/[.,!?]/g, '').trim().replace(/\s+/g, ' ');
  return HANDS_FREE_COMMANDS.find((c) => words[c].includes(said));
}

/** What voice control can do here, and why not when it cannot. */
export type VoiceControlState =
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'checking' }
  | { readonly kind: 'unavailable'; readonly lang: string; readonly availability: string }
  | { readonly kind: 'listening'; readonly lang: string }
  | { readonly kind: 'off' }
  | { readonly kind: 'failed'; readonly error: string };

const OTHER_WAYS = 'use the button, Space or Enter';

/** The line the page shows about voice control. */
export function voiceControlText(s: VoiceControlState): string {
  switch (s.kind) {
    case 'unsupported':
      return `Voice control needs on-device speech recognition, which this browser lacks: ${OTHER_WAYS}.`;
    case 'unavailable':
      return s.availability === 'downloadable' || s.availability === 'downloading'
        ? `Voice control needs on-device speech recognition for "${s.lang}", which is not installed on this device: ${OTHER_WAYS}.`
        : `Voice control needs on-device speech recognition for "${s.lang}", which this browser lacks: ${OTHER_WAYS}.`;
    case 'checking':
      return 'Checking for on-device speech recognition…';
    case 'listening':
      return 'Listening on this device for “next”, “repeat” and “back” (no audio leaves the device).';
    case 'off':
      return '';
    case 'failed':
      return `Voice control stopped (${s.error}): ${OTHER_WAYS}.`;
    default:
      return assertNever(s);
  }
}
