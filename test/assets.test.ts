// Runs the real provisioning script in a scratch project, against a scratch mirror.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve('scripts/assets.mjs');

type Entry = { path: string; content: string; url?: string; sha?: string; optional?: boolean; snapshot?: { repo: string; commit: string; path: string } };

function scratch(files: Entry[]) {
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
      ...(f.optional ? { optional: true } : {}),
      ...(f.snapshot ? { snapshot: f.snapshot } : {}),
    })),
  };
  writeFileSync(join(project, 'assets.manifest.json'), JSON.stringify(manifest));
  return { project, mirror };
}

function run(project: string, mirror: string, snapshots = join(project, 'no-snapshots')) {
  const r = spawnSync('node', ['scripts/assets.mjs'], { cwd: project, env: { ...process.env, FRAMEWISE_ASSETS_DIR: mirror, FRAMEWISE_SNAPSHOTS_DIR: snapshots }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
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

  it('reads an entry with a snapshot out of a local git snapshot at its commit, checked like any other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-snap-'));
    // A snapshot as fetched: <owner>+<name>/repo is the git directory.
    const git = (...a: string[]) => execFileSync('git', a, { cwd: join(dir, 'work'), encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
    mkdirSync(join(dir, 'work/clips'), { recursive: true });
    mkdirSync(join(dir, 'snapshots/own+clips'), { recursive: true });
    execFileSync('git', ['init', '-q', '--separate-git-dir', join(dir, 'snapshots/own+clips/repo'), join(dir, 'work')]);
    writeFileSync(join(dir, 'work/clips/a.mp4'), 'clip at the pinned commit');
    git('add', '.');
    git('commit', '-qm', 'one');
    const commit = git('rev-parse', 'HEAD');
    writeFileSync(join(dir, 'work/clips/a.mp4'), 'clip changed later');
    git('commit', '-qam', 'two');
    const { project, mirror } = scratch([{ path: 'video/a.mp4', content: 'clip at the pinned commit', optional: true, snapshot: { repo: 'own/clips', commit, path: 'clips/a.mp4' } }]);
    const r = run(project, mirror, `${join(dir, 'nothing-here')}${delimiter}${join(dir, 'snapshots')}`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/provisioned 1 files \(0 from mirror .*, 1 from local git snapshots, 0 downloaded\)/);
    expect(readFileSync(join(project, '.assets/video/a.mp4'), 'utf8')).toBe('clip at the pinned commit');
  });

  it('an optional entry that cannot be had is named, with why, and the script still succeeds and places the rest', () => {
    const { project, mirror } = scratch([
      { path: 'coco/a.jpg', content: 'jpeg' },
      { path: 'video/gone.mp4', content: 'x', optional: true, snapshot: { repo: 'own/clips', commit: 'a'.repeat(40), path: 'gone.mp4' } },
      { path: 'video/bad.mp4', content: 'expected', optional: true },
    ]);
    mkdirSync(join(mirror, 'coco'));
    writeFileSync(join(mirror, 'coco/a.jpg'), 'jpeg');
    mkdirSync(join(mirror, 'video'));
    writeFileSync(join(mirror, 'video/bad.mp4'), 'tampered');
    const r = run(project, mirror);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/provisioned 1 files/);
    expect(r.err).toMatch(/real-video clips unavailable: .*video\/bad\.mp4: checksum mismatch.*video\/gone\.mp4: not in mirror .*, no snapshot of own\/clips in .* and download failed/);
    expect(r.err).toMatch(/real-video tests will skip/);
    expect(readFileSync(join(project, '.assets/coco/a.jpg'), 'utf8')).toBe('jpeg');
    expect(existsSync(join(project, '.assets/video/bad.mp4'))).toBe(false);
  });
});
