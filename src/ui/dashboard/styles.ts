import { css } from 'lit';

/** What the trainer's view shares: tables, badges, controls, on the dashboard's dark page (contrast checked by axe). */
export const dashboardStyles = css`
  :host { display: block; }
  :host([hidden]) { display: none; }
  h2 { font-size: 20px; margin: 16px 0 8px; }
  h3 { font-size: 16px; margin: 20px 0 8px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #334155; vertical-align: top; }
  th { color: #cbd5e1; font-weight: 600; white-space: nowrap; }
  /*
   * Long tables (a timeline's steps, a task's figures) are ARIA tables of grid rows, not <table>s:
   * a row off screen is skipped by layout (content-visibility), and adding rows does not lay out
   * the whole table again, which with 1,000 rows made each added slice a long task.
   */
  .rows { font-size: 14px; }
  .rows .row { display: grid; grid-template-columns: var(--columns); gap: 0 12px; padding: 6px 8px; border-bottom: 1px solid #334155; align-items: start; }
  .rows .row.body { content-visibility: auto; contain-intrinsic-size: auto 44px; }
  .rows .row.head { color: #cbd5e1; font-weight: 600; }
  .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .muted { color: #94a3b8; }
  .small { font-size: 12px; }
  .error { color: #fca5a5; }
  a { color: #7dd3fc; }
  button { font: inherit; font-size: 14px; padding: 6px 12px; border-radius: 6px; border: 1px solid #475569; background: #1e293b; color: #e2e8f0; cursor: pointer; }
  button:hover { background: #334155; }
  button:disabled { opacity: 0.6; cursor: default; }
  select, input { font: inherit; font-size: 14px; padding: 6px 8px; background: #0b1220; color: #e2e8f0; border: 1px solid #64748b; border-radius: 6px; }
  :focus-visible { outline: 2px solid #7dd3fc; outline-offset: 2px; }
  .actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
  .badge.completed { background: #14532d; color: #dcfce7; }
  .badge.abandoned { background: #7c2d12; color: #ffedd5; }
  .badge.in-progress { background: #1e3a8a; color: #dbeafe; }
  .badge.live { background: #b91c1c; color: #fff; }
  ul.plain, ol.plain { list-style: none; margin: 0; padding: 0; }
  ul.plain li + li, ol.plain li + li { margin-top: 2px; }
  .derailment { color: #fecaca; }
  .bad-time { color: #fcd34d; font-style: italic; }
`;
