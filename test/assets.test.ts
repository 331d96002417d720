// Runs the real provisioning script in a scratch project, against a scratch mirror.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve('scripts/assets.mjs');

function scratch(files: { path: string; content: string; url?: string; sha?: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fw-assets-'));
  const project = join(dir, 'project');
  const mirror = join(dir, 'mirror');
  mkdirSync(join(project, 'scripts'), { recursive: true });
  mkdirSync(mirror, { recursive: true });
  copyFileSync(script, join(project, 'scripts/assets.mjs'));
  const manifest = {
    files: files.map((f) => ({
      path: f.path,
      bytes: Buffer.byteLength(f.content),
      sha256: f.sha ?? createHash('sha256').update(f.content).digest('hex'),
      // Nothing listens on port 9 here: a download fails at once, as it would offline.
      url: f.url ?? `http://127.0.0.1:9/${f.path}`,
    })),
  };
  writeFileSync(join(project, 'assets.manifest.json'), JSON.stringify(manifest));
  return { project, mirror };
}

function run(project: string, mirror: string) {
  try {
    const out = execFileSync('node', ['scripts/assets.mjs'], { cwd: project, env: { ...process.env, FRAMEWISE_ASSETS_DIR: mirror }, encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, out, err: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout, err: err.stderr };
  }
}

describe('asset provisioning', () => {
  it('copies from the mirror, verifies, and places models under public/models', () => {
    const { project, mirror } = scratch([{ path: 'm.onnx', content: 'model bytes' }, { path: 'coco/a.jpg', content: 'jpeg' }]);
    writeFileSync(join(mirror, 'm.onnx'), 'model bytes');
    mkdirSync(join(mirror, 'coco'));
    writeFileSync(join(mirror, 'coco/a.jpg'), 'jpeg');
    const r = run(project, mirror);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/provisioned 2 files \(2 from mirror/);
    expect(readFileSync(join(project, 'public/models/m.onnx'), 'utf8')).toBe('model bytes');
    expect(readFileSync(join(project, '.assets/coco/a.jpg'), 'utf8')).toBe('jpeg');
    expect(run(project, mirror).out).toMatch(/all 2 files present and verified/);
  });

  it('refuses a file whose checksum differs, naming it, and places nothing', () => {
    const { project, mirror } = scratch([{ path: 'good.txt', content: 'good' }, { path: 'm.onnx', content: 'expected' }]);
    writeFileSync(join(mirror, 'good.txt'), 'good');
    writeFileSync(join(mirror, 'm.onnx'), 'tampered');
    const r = run(project, mirror);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^assets: error: m\.onnx: checksum mismatch/);
    expect(existsSync(join(project, '.assets/good.txt'))).toBe(false);
    expect(existsSync(join(project, 'public/models/m.onnx'))).toBe(false);
  });

  it('says which file could not be had when the mirror lacks it and the download fails', () => {
    const { project } = scratch([{ path: 'coco/missing.jpg', content: 'x' }]);
    const r = run(project, join(project, 'no-such-mirror'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/coco\/missing\.jpg: not in mirror .*no-such-mirror and download failed/);
  });
});
