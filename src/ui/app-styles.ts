import { css } from 'lit';

/** The live page's layout: the video and the guide side by side, stacked in portrait; full screen fills the display. */
export const appStyles = css`
  :host { display: block; max-width: 1280px; margin: auto; padding: 8px 12px; box-sizing: border-box; }
  :host(:fullscreen) { max-width: none; background: #0f172a; height: 100vh; }
  header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  h1 { font-size: 20px; margin: 0; flex: 1; }
  button { font: inherit; padding: 8px 14px; border-radius: 6px; border: 0; background: #38bdf8; color: #0f172a; cursor: pointer; }
  button.quiet { background: #1e293b; color: #e2e8f0; border: 1px solid #334155; }
  button:disabled { opacity: 0.5; cursor: default; }
  main { display: grid; gap: 10px; margin-top: 8px; }
  .guide { display: grid; gap: 12px; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); align-items: start; }
  @media (max-width: 760px), (orientation: portrait) { .guide { grid-template-columns: 1fr; } }
  .stage { position: relative; }
  video { width: 100%; height: min(62vh, 56vw); object-fit: contain; background: #000; border-radius: 8px; display: block; }
  @media (orientation: portrait) { video { height: 36vh; } }
  :host(:fullscreen) video { height: calc(100vh - 110px); }
  .error { background: #7f1d1d; padding: 8px 12px; border-radius: 6px; }
  .notice { background: #1e3a8a; padding: 8px 12px; border-radius: 6px; display: flex; gap: 12px; align-items: center; }
  .aids { font-size: 13px; color: #94a3b8; }
  aside { display: grid; gap: 10px; border-top: 1px solid #334155; padding-top: 10px; }
  aside[hidden] { display: none; }
`;
