import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdminApi, filenameFrom, SignedOut, Throttled } from './api';

describe('filenameFrom', () => {
  it('reads the name an attachment is given', () => {
    expect(filenameFrom('attachment; filename="framewise-sessions.csv"')).toBe('framewise-sessions.csv');
    expect(filenameFrom('attachment; filename=framewise-session-abc.json')).toBe('framewise-session-abc.json');
  });
  it('gives none for a missing header, or a name with a path in it', () => {
    expect(filenameFrom(null)).toBeUndefined();
    expect(filenameFrom('inline')).toBeUndefined();
    expect(filenameFrom('attachment; filename="../../etc/passwd"')).toBeUndefined();
  });
});

describe('AdminApi refusals', () => {
  afterEach(() => vi.unstubAllGlobals());
  const answering = (status: number, body: unknown) => vi.stubGlobal('fetch', async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

  it('a refused token signs out; too many wrong ones lately says what the backend said, and is no sign-out', async () => {
    answering(401, { error: 'the admin token is required (Authorization: Bearer …)' });
    await expect(new AdminApi('wrong').devices()).rejects.toBeInstanceOf(SignedOut);
    answering(429, { error: 'too many wrong admin tokens from this address; retry in 540 s' });
    const refusal = new AdminApi('right').devices();
    await expect(refusal).rejects.toBeInstanceOf(Throttled);
    await expect(refusal).rejects.toThrow('The backend is not checking admin tokens from here for now: too many wrong admin tokens from this address; retry in 540 s');
  });
});
