#!/usr/bin/env node
// Provisions the files listed in assets.manifest.json: copied from a local mirror
// (FRAMEWISE_ASSETS_DIR, default ../shared/assets) when it has them, downloaded from
// their pinned URL otherwise, and always checked against their SHA-256.
// Files land in a staging directory first and are moved into place only when every
// file verified, so a failure never leaves a half-provisioned tree.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'assets.manifest.json'), 'utf8'));
const mirror = resolve(root, process.env.FRAMEWISE_ASSETS_DIR ?? '../shared/assets');
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

async function fetchBytes(entry) {
  const local = join(mirror, entry.path);
  if (existsSync(local)) return { buf: readFileSync(local), from: local };
  let res;
  try {
    res = await fetch(entry.url, { signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new Error(`${entry.path}: not in mirror ${mirror} and download failed (${err.cause?.code ?? err.message}) from ${entry.url}`);
  }
  if (!res.ok) throw new Error(`${entry.path}: not in mirror ${mirror} and download answered HTTP ${res.status} from ${entry.url}`);
  return { buf: Buffer.from(await res.arrayBuffer()), from: entry.url };
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
    let copied = 0;
    let downloaded = 0;
    // A few at a time: the mirror is local, the network may be slow.
    const queue = [...missing];
    const workers = Array.from({ length: 6 }, async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const { buf, from } = await fetchBytes(entry);
        const digest = sha256(buf);
        if (buf.length !== entry.bytes || digest !== entry.sha256) {
          throw new Error(`${entry.path}: checksum mismatch from ${from} (sha256 ${digest}, ${buf.length} bytes; expected ${entry.sha256}, ${entry.bytes} bytes)`);
        }
        const staged = join(staging, entry.path);
        mkdirSync(dirname(staged), { recursive: true });
        await writeFile(staged, buf);
        if (from === entry.url) downloaded++; else copied++;
      }
    });
    await Promise.all(workers);
    for (const entry of missing) {
      const staged = join(staging, entry.path);
      for (const place of placements(entry)) {
        mkdirSync(dirname(place), { recursive: true });
        copyFileSync(staged, place + '.tmp');
        renameSync(place + '.tmp', place);
      }
    }
    console.log(`assets: provisioned ${missing.length} files (${copied} from mirror ${mirror}, ${downloaded} downloaded), all SHA-256 verified`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`assets: error: ${err.message}`);
  process.exit(1);
});
