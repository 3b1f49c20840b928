/** Most elements a command frame has (`[1, id, channel, offset, epoch]`). */
export const MAX_COMMAND_ELEMENTS = 15;

/** Size of the scalar msgpack element at `pos` (header + body), or -1 when it is not a scalar. */
function scalarLength(buf: Uint8Array, pos: number): number {
  const t = buf[pos]!;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return 1;
  if (t >= 0xa0 && t <= 0xbf) return 1 + (t & 0x1f);
  const view = new DataView(buf.buffer, buf.byteOffset);
  const need = (n: number): boolean => pos + n < buf.length;
  switch (t) {
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xce:
    case 0xd2:
    case 0xca:
      return 5;
    case 0xcf:
    case 0xd3:
    case 0xcb:
      return 9;
    case 0xc4:
    case 0xd9:
      return need(1) ? 2 + buf[pos + 1]! : -1;
    case 0xc5:
    case 0xda:
      return need(2) ? 3 + view.getUint16(pos + 1) : -1;
    case 0xc6:
    case 0xdb:
      return need(4) ? 5 + view.getUint32(pos + 1) : -1;
    default:
      return -1; // arrays, maps, extensions and the unused 0xc1
  }
}

/**
 * Checks, without decoding, that a client frame is one flat msgpack array of at most
 * MAX_COMMAND_ELEMENTS scalars (no nesting, no maps, no extensions) whose declared lengths fit
 * the frame exactly. Returns a problem description, or null when the shape is fine. Decoding a
 * frame that passes cannot recurse, allocate beyond the frame's size, or create objects.
 */
export function frameShapeProblem(buf: Uint8Array): string | null {
  if (buf.length === 0) return 'frame is empty';
  const head = buf[0]!;
  if (head < 0x90 || head > 0x9f) return 'frame must be a msgpack array [opcode, id, ...]';
  const count = head & 0x0f;
  if (count > MAX_COMMAND_ELEMENTS) return `frame has more than ${MAX_COMMAND_ELEMENTS} elements`;
  let pos = 1;
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) return 'frame is truncated';
    const length = scalarLength(buf, pos);
    if (length < 0) return `element ${i} must be a scalar (nil, boolean, number, str or bin), not an array, map or extension`;
    pos += length;
    if (pos > buf.length) return `element ${i} declares more bytes than the frame holds`;
  }
  return pos === buf.length ? null : 'frame has trailing bytes after its array';
}
