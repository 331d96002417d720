/**
 * The end of an exhaustive switch over a union: the compiler proves it unreachable (a new member
 * left unhandled is a type error there), and a value that arrives anyway (data from outside,
 * older or newer than this code) throws naming itself instead of being silently ignored.
 */
export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}
