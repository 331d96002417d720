#!/usr/bin/env node
// Provisions the files listed in assets.manifest.json: copied from a local mirror
// (FRAMEWISE_ASSETS_DIR, default ../shared/assets) when it has them; else, for an entry that
// names a `snapshot` ({repo, commit, path}), read out of a local git snapshot of that repository
// at that commit; else downloaded from their pinned URL. Always checked against their SHA-256.
//
// Snapshots are looked for in each directory of FRAMEWISE_SNAPSHOTS_DIR (a list separated by
// the platform's path delimiter, ':' on Linux; default ../.mirror, then /work/.mirror). Each
// holds one folder per repository, named <owner>+<name>, with the git directory inside it
// (<owner>+<name>/repo, <owner>+<name>/repo/.git, <owner>+<name>/.git or the folder itself).
//
// Entries marked `optional: true` (the real-video clips) may be missing: the script says which
// and why, and succeeds; the tests that need them skip. Required entries must all be had.
// Files land in a staging directory first and are moved into place only when every required
// file verified, so a failure never leaves a half-provisioned tree.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'assets.manifest.json'), 'utf8'));
const mirror = resolve(root, process.env.FRAMEWISE_ASSETS_DIR ?? '../shared/assets');
const snapshotDirs = (process.env.FRAMEWISE_SNAPSHOTS_DIR ? process.env.FRAMEWISE_SNAPSHOTS_DIR.split(delimiter).filter(Boolean) : ['../.mirror', '/work/.mirror']).map((d) => resolve(root, d));
const cacheDir = join(root, '.assets');
const ifNeeded = process.argv.includes('--if-needed');

/** Where each manifest entry is placed in the project (besides the .assets cache). */
function placements(entry) {
  const places = [join(cacheDir, entry.path)];
  if (entry.path.endsWith('.onnx')) places.push(join(root, 'public/models', entry.path));
  return places;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function isInPlace(entry) {
  return placements(entry).every((p) => {
    if (!existsSync(p)) return false;
    const buf = readFileSync(p);
    return buf.length === entry.bytes && sha256(buf) === entry.sha256;
  });
}

/** The git directories a snapshot of `repo` (owner/name) may sit in, in the order tried. */
function snapshotGitDirs(repo) {
  const folder = repo.replace('/', '+');
  return snapshotDirs.flatMap((d) => ['repo/.git', 'repo', '.git', '.'].map((g) => join(d, folder, g))).filter((g) => existsSync(join(g, 'HEAD')) && existsSync(join(g, 'objects')));
}

/** The file's bytes at the pinned commit, from the first local snapshot that has them; or why none did. */
function fromSnapshot(snapshot) {
  const dirs = snapshotGitDirs(snapshot.repo);
  if (dirs.length === 0) return { why: `no snapshot of ${snapshot.repo} in ${snapshotDirs.join(', ')}` };
  for (const gitDir of dirs) {
    try {
      const buf = execFileSync('git', ['--git-dir', gitDir, 'cat-file', 'blob', `${snapshot.commit}:${snapshot.path}`], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
      return { buf, from: `${gitDir} at ${snapshot.commit.slice(0, 12)}` };
    } catch {
      // This snapshot lacks that commit (or git is missing): try the next.
    }
  }
  return { why: `the snapshot of ${snapshot.repo} in ${dirs.join(', ')} lacks ${snapshot.commit.slice(0, 12)}:${snapshot.path}` };
}

async function fetchBytes(entry) {
  const local = join(mirror, entry.path);
  if (existsSync(local)) return { buf: readFileSync(local), from: local, kind: 'mirror' };
  let snapshotWhy = '';
  if (entry.snapshot) {
    const s = fromSnapshot(entry.snapshot);
    if (s.buf) return { buf: s.buf, from: s.from, kind: 'snapshot' };
    snapshotWhy = `, ${s.why}`;
  }
  let res;
  try {
    res = await fetch(entry.url, { signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new Error(`${entry.path}: not in mirror ${mirror}${snapshotWhy} and download failed (${err.cause?.code ?? err.message}) from ${entry.url}`);
  }
  if (!res.ok) throw new Error(`${entry.path}: not in mirror ${mirror}${snapshotWhy} and download answered HTTP ${res.status} from ${entry.url}`);
  return { buf: Buffer.from(await res.arrayBuffer()), from: entry.url, kind: 'download' };
}

async function main() {
  const missing = manifest.files.filter((e) => !isInPlace(e));
  if (missing.length === 0) {
    if (!ifNeeded) console.log(`assets: all ${manifest.files.length} files present and verified`);
    return;
  }
  const staging = join(root, '.assets-staging');
  rmSync(staging, { recursive: true, force: true });
  try {
    const counts = { mirror: 0, snapshot: 0, download: 0 };
    /** Optional entries that could not be had, with why. */
    const unavailable = [];
    const staged = [];
    // A few at a time: the mirror is local, the network may be slow.
    const queue = [...missing];
    const workers = Array.from({ length: 6 }, async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        try {
          const { buf, from, kind } = await fetchBytes(entry);
          const digest = sha256(buf);
          if (buf.length !== entry.bytes || digest !== entry.sha256) {
            throw new Error(`${entry.path}: checksum mismatch from ${from} (sha256 ${digest}, ${buf.length} bytes; expected ${entry.sha256}, ${entry.bytes} bytes)`);
          }
          const file = join(staging, entry.path);
          mkdirSync(dirname(file), { recursive: true });
          await writeFile(file, buf);
          counts[kind]++;
          staged.push(entry);
        } catch (err) {
          if (!entry.optional) throw err;
          unavailable.push(err.message);
        }
      }
    });
    await Promise.all(workers);
    for (const entry of staged) {
      const file = join(staging, entry.path);
      for (const place of placements(entry)) {
        mkdirSync(dirname(place), { recursive: true });
        copyFileSync(file, place + '.tmp');
        renameSync(place + '.tmp', place);
      }
    }
    if (staged.length > 0) {
      const snap = counts.snapshot > 0 ? `, ${counts.snapshot} from local git snapshots` : '';
      console.log(`assets: provisioned ${staged.length} files (${counts.mirror} from mirror ${mirror}${snap}, ${counts.download} downloaded), all SHA-256 verified`);
    }
    if (unavailable.length > 0) {
      console.warn(`assets: real-video clips unavailable: ${unavailable.sort().join('; ')}. The real-video tests will skip (everything else is provisioned).`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`assets: error: ${err.message}`);
  process.exit(1);
});
