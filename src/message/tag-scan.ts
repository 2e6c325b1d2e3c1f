/**
 * The fast path for From/To tags: dialogs and transactions match on them constantly, and a proxy
 * needs the To tag of every request (in-dialog or not) without parsing the URI. This scanner finds
 * the `tag` header parameter (RFC 3261 §19.3) in a From/To value; it returns null when the value
 * does not have the expected shape, and the caller then falls back on the full grammar.
 */

function skipQuoted(v: string, i: number): number {
  // i is at the opening quote; returns the index after the closing one, or -1.
  for (let j = i + 1; j < v.length; j++) {
    const c = v.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

function isTagChar(c: number): boolean {
  // token characters (RFC 3261 §25.1)
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ||
    c === 45 || c === 46 || c === 33 || c === 37 || c === 42 || c === 95 || c === 43 || c === 96 || c === 39 || c === 126;
}

/**
 * The tag parameter of a From/To value: the tag, undefined when there is none, or null when the
 * value is not of a shape this scanner reads (then use the full parser).
 */
export function scanTag(v: string): string | undefined | null {
  const n = v.length;
  let i = 0;
  // Past the display name and the URI: after '>' for name-addr, at the first ';' for addr-spec.
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 34) {
      i = skipQuoted(v, i);
      if (i < 0) return null;
      i--;
    } else if (c === 60 /* < */) {
      const gt = v.indexOf('>', i);
      if (gt < 0) return null;
      i = gt + 1;
      break;
    } else if (c === 59 /* ; */) break;
  }
  let tag: string | undefined;
  while (i < n) {
    const c = v.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c !== 59) return null;
    i++;
    while (i < n && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9)) i++;
    const nameStart = i;
    while (i < n && isTagChar(v.charCodeAt(i))) i++;
    const isTag = i - nameStart === 3 && (v.charCodeAt(nameStart) | 0x20) === 116 && (v.charCodeAt(nameStart + 1) | 0x20) === 97 &&
      (v.charCodeAt(nameStart + 2) | 0x20) === 103;
    while (i < n && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9)) i++;
    if (i < n && v.charCodeAt(i) === 61 /* = */) {
      i++;
      while (i < n && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9)) i++;
      if (i < n && v.charCodeAt(i) === 34) {
        if (isTag) return null; // a quoted tag is not a token: let the grammar decide
        i = skipQuoted(v, i);
        if (i < 0) return null;
      } else {
        const valueStart = i;
        while (i < n && v.charCodeAt(i) !== 59 && v.charCodeAt(i) !== 32 && v.charCodeAt(i) !== 9) i++;
        if (isTag) {
          if (tag !== undefined || i === valueStart) return null;
          tag = v.slice(valueStart, i);
          for (let k = 0; k < tag.length; k++) if (!isTagChar(tag.charCodeAt(k))) return null;
        }
      }
    } else if (isTag) return null;
  }
  return tag;
}
