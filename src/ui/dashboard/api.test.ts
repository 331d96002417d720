import { describe, expect, it } from 'vitest';
import { filenameFrom } from './api';

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
