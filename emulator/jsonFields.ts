/**
 * Reading request bodies as Azure ML's front end binds them (Json.NET): property names match in
 * any casing. Shared by the api-version translations (versionShapes.ts, legacyJobShapes.ts).
 */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The key of `object` equal to `name` ignoring case (Json.NET binds names that way). */
export function keyOf(object: Json, name: string): string | undefined {
  return Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
}

/** Removes `name` (any casing) from `object` and returns its value. */
export function take(object: Json, name: string): unknown {
  const key = keyOf(object, name);
  if (key === undefined) {
    return undefined;
  }
  const value = object[key];
  delete object[key];
  return value;
}
