/** One item's answer: its position (with history) and, for an item with an idempotency key, whether it repeated an earlier publish; or its failure. */
export type BatchItemResult =
  | { ok: true; channel: string; size: number; offset?: number; epoch?: string; repeated?: boolean }
  | { ok: false; channel: string | null; error: string; message: string };

/** JSON string literals of channel names already seen (names are few and repeat across batches). */
const quotedChannels = new Map<string, string>();
const MAX_QUOTED_CHANNELS = 4096;

/** Text that JSON quotes as is (epochs are base64url). */
const PLAIN = /^[\w-]*$/;

function quoted(channel: string): string {
  let text = quotedChannels.get(channel);
  if (text === undefined) {
    if (quotedChannels.size >= MAX_QUOTED_CHANNELS) quotedChannels.clear();
    text = JSON.stringify(channel);
    quotedChannels.set(channel, text);
  }
  return text;
}

/**
 * The batch publish answer `{"ok", "published", "results": [...]}` as JSON text: the same text
 * `JSON.stringify` gives, built by hand for the published items (about half its time for a batch
 * of 100, measured with the flattening `res.end` does), with `JSON.stringify` for failures and
 * any string that could need escaping (channel names are quoted once, epochs are checked).
 */
export function batchReplyJson(published: number, results: readonly BatchItemResult[]): string {
  let out = `{"ok":${published === results.length},"published":${published},"results":[`;
  // the items of a channel share its epoch: check each distinct one once
  let plainEpoch = '';
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (i > 0) out += ',';
    if (r.ok && r.epoch !== undefined && r.epoch !== plainEpoch && PLAIN.test(r.epoch)) plainEpoch = r.epoch;
    if (!r.ok || (r.epoch !== undefined && r.epoch !== plainEpoch)) {
      out += JSON.stringify(r);
      continue;
    }
    out += `{"ok":true,"channel":${quoted(r.channel)},"size":${r.size}`;
    if (r.offset !== undefined) out += `,"offset":${r.offset}`;
    if (r.epoch !== undefined) out += `,"epoch":"${r.epoch}"`;
    if (r.repeated !== undefined) out += `,"repeated":${r.repeated}`;
    out += '}';
  }
  return `${out}]}`;
}
