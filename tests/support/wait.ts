/** Polls `fn` every 5 ms until it returns a value (not undefined); fails after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
