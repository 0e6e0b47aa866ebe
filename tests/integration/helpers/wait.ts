// Bounded polling with a failure message that says what was awaited and what was last seen.
export interface Probe<T> {
  ok: boolean;
  value?: T;
  /** What was seen, for the timeout message. */
  detail: string;
}

export async function waitFor<T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'never probed';
  for (;;) {
    try {
      const r = await probe();
      if (r.ok) return r.value as T;
      last = r.detail;
    } catch (e) {
      last = `probe error: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last seen: ${last}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
