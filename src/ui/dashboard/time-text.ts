import { html } from 'lit';
import { BAD_TIME, badTimeNote, isoInstant } from './format';

/**
 * A stored time as `<time datetime>` holding `text(ts)`, or, for a time that is not a date (a
 * device's clock gone wrong, stored before the server judged times), a marked placeholder that
 * says what was recorded: the rest of the row, and the rows around it, still show.
 */
export function timeText(ts: number, text: (ts: number) => string) {
  const iso = isoInstant(ts);
  return iso === undefined ? html`<span class="bad-time" data-testid="bad-time" title=${badTimeNote(ts)}>${BAD_TIME}</span>` : html`<time datetime=${iso}>${text(ts)}</time>`;
}
