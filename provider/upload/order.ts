/**
 * Orderings used by the Azure ML SDK (azure-ai-ml) when it hashes and uploads a folder.
 *
 * Python compares `str` values code point by code point; JavaScript's `<` compares UTF-16 code
 * units. The two agree except when a character outside the Basic Multilingual Plane (stored as a
 * surrogate pair) meets a character in U+E000..U+FFFF, so the comparator below remaps code units
 * to restore code-point order.
 */

/** Maps a UTF-16 code unit so that code-unit order equals code-point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) {
    return unit + 0x2000; // surrogates encode U+10000 and above: above every BMP character
  }
  if (unit >= 0xe000) {
    return unit - 0x800;
  }
  return unit;
}

/** Compares two strings by Unicode code point, as Python's `<` on `str` does. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      return codePointRank(x) - codePointRank(y);
    }
  }
  return a.length - b.length;
}

/**
 * The SDK's content-hash order: `sorted(files, key=lambda f: f.relPath.lower())`.
 *
 * Paths that differ only in case (possible on case-sensitive file systems) compare equal in the
 * SDK, whose stable sort then keeps the directory-listing order, which the OS does not fix. We
 * break such ties by the original path so the hash is deterministic.
 */
export function compareSdkPathOrder(a: string, b: string): number {
  return compareCodePoints(a.toLowerCase(), b.toLowerCase()) || compareCodePoints(a, b);
}

/** Returns a copy of `items` sorted in the SDK's content-hash order of `pathOf(item)`. */
export function sortBySdkPathOrder<T>(items: readonly T[], pathOf: (item: T) => string): T[] {
  const keyed = items.map((item) => {
    const path = pathOf(item);
    return { item, path, lower: path.toLowerCase() };
  });
  keyed.sort((x, y) => compareCodePoints(x.lower, y.lower) || compareCodePoints(x.path, y.path));
  return keyed.map((k) => k.item);
}
