import { sleep } from './wait';

/**
 * Publishes "1", "2", … over HTTP to `channel`, retrying each one until the server accepts it
 * (through broker outages), cycling over `bases`. Stops after `count` messages.
 */
export async function publishSequence(bases: string[], channel: string, count: number, intervalMs = 0, start = 1): Promise<number> {
  let retries = 0;
  for (let i = start; i < start + count; i++) {
    for (let attempt = 0; ; attempt++) {
      const base = bases[(i + attempt) % bases.length]!;
      try {
        const res = await fetch(`${base}/v1/channels/${channel}/publish`, { method: 'POST', body: String(i) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // the process may be restarting: try again
      }
      retries++;
      if (attempt > 400) throw new Error(`publish of ${i} on ${channel} failed 400 times`);
      await sleep(25);
    }
    if (intervalMs > 0) await sleep(intervalMs);
  }
  return retries;
}

/** The data of every publication in a channel's history, oldest first (the authoritative sequence). */
export async function historyData(base: string, channel: string): Promise<{ epoch: string; data: string[]; offsets: number[] }> {
  const res = await fetch(`${base}/v1/channels/${channel}/history?since=0&limit=1000000`);
  if (res.status !== 200) throw new Error(`history of ${channel}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { epoch: string; publications: Array<{ offset: number; data: unknown; encoding: string }> };
  const text = (p: { data: unknown; encoding: string }): string =>
    p.encoding === 'base64' ? Buffer.from(p.data as string, 'base64').toString() : typeof p.data === 'string' ? p.data : JSON.stringify(p.data);
  return { epoch: body.epoch, data: body.publications.map(text), offsets: body.publications.map((p) => p.offset) };
}
