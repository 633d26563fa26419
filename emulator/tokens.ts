/**
 * Bearer tokens for the emulator: unsigned, JWT-shaped (`base64url(header).base64url(claims).sig`)
 * so that clients which peek at `exp` or `aud` keep working, and a check that reports why a token
 * was refused (missing, malformed, wrong audience, expired).
 */

export const ARM_AUDIENCE = "https://management.azure.com";
export const ML_AUDIENCE = "https://ml.azure.com";

/** Audiences Azure accepts as equivalent for each plane (with and without the trailing slash). */
export const ACCEPTED_AUDIENCES: Readonly<Record<string, readonly string[]>> = {
  [ARM_AUDIENCE]: [
    "https://management.azure.com",
    "https://management.azure.com/",
    "https://management.core.windows.net",
    "https://management.core.windows.net/",
  ],
  [ML_AUDIENCE]: ["https://ml.azure.com", "https://ml.azure.com/"],
};

export const EMULATOR_TENANT_ID = "72f988bf-0000-4000-8000-00000000e001";
export const EMULATOR_OBJECT_ID = "0b1e0000-0000-4000-8000-00000000e001";
/** `kid` of every emulator-minted token: marks a token the emulator may accept without an exact match. */
export const EMULATOR_KEY_ID = "azureml-emulator";

export interface TokenClaims {
  aud: string;
  iss: string;
  exp: number;
  iat?: number;
  nbf?: number;
  oid: string;
  tid: string;
}

export interface MintTokenOptions {
  audience: string;
  /** Lifetime from now. @default 86400 (one day) */
  expiresInSeconds?: number;
  oid?: string;
  tid?: string;
  /** Clock override for tests. @default Date.now() */
  nowInMs?: number;
}

/** Mints an unsigned JWT-shaped token for the given audience. */
export function mintToken(options: MintTokenOptions): string {
  const nowInSeconds = Math.floor((options.nowInMs ?? Date.now()) / 1000);
  const tid = options.tid ?? EMULATOR_TENANT_ID;
  const claims: TokenClaims = {
    aud: options.audience,
    iss: `https://sts.windows.net/${tid}/`,
    iat: nowInSeconds,
    nbf: nowInSeconds,
    exp: nowInSeconds + (options.expiresInSeconds ?? 86_400),
    oid: options.oid ?? EMULATOR_OBJECT_ID,
    tid,
  };
  const header = { alg: "none", typ: "JWT", kid: EMULATOR_KEY_ID };
  return `${encode(header)}.${encode(claims)}.${Buffer.from("unsigned").toString("base64url")}`;
}

/** A token pair for the two audiences the emulator serves. */
export function mintEmulatorTokens(options: Omit<MintTokenOptions, "audience"> = {}): {
  arm: string;
  ml: string;
} {
  return {
    arm: mintToken({ ...options, audience: ARM_AUDIENCE }),
    ml: mintToken({ ...options, audience: ML_AUDIENCE }),
  };
}

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Partial<TokenClaims> & Record<string, unknown>;
}

/** Decodes a JWT-shaped token without verifying anything; undefined when it is not JWT-shaped. */
export function decodeToken(token: string): DecodedToken | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) {
    return undefined;
  }
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (!isObject(header) || !isObject(claims)) {
      return undefined;
    }
    return { header, claims };
  } catch {
    return undefined;
  }
}

export type TokenCheck =
  | { ok: true }
  | { ok: false; reason: "missing" | "malformed" | "invalid" | "expired" }
  | { ok: false; reason: "audience"; audience: string | undefined; allowed: readonly string[] };

export interface ExpectedToken {
  /** The exact token this plane was configured with. */
  token: string;
  /** ARM_AUDIENCE or ML_AUDIENCE. */
  audience: string;
}

/**
 * Checks an `Authorization` header value. Accepts the configured token, or any unexpired
 * emulator-minted token for the right audience (so a token endpoint can mint fresh ones).
 */
export function checkAuthorization(
  header: string | undefined,
  expected: ExpectedToken,
  nowInMs: number = Date.now(),
): TokenCheck {
  if (header === undefined || header.trim() === "") {
    return { ok: false, reason: "missing" };
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) {
    return { ok: false, reason: "malformed" };
  }
  const token = match[1];
  if (token === expected.token) {
    return { ok: true };
  }
  const decoded = decodeToken(token);
  if (decoded === undefined) {
    return { ok: false, reason: "invalid" };
  }
  const allowed = ACCEPTED_AUDIENCES[expected.audience] ?? [expected.audience];
  const aud = typeof decoded.claims.aud === "string" ? decoded.claims.aud : undefined;
  if (aud === undefined || !allowed.includes(aud)) {
    return { ok: false, reason: "audience", audience: aud, allowed };
  }
  if (decoded.header.kid !== EMULATOR_KEY_ID) {
    return { ok: false, reason: "invalid" };
  }
  if (typeof decoded.claims.exp !== "number" || decoded.claims.exp * 1000 <= nowInMs) {
    return { ok: false, reason: "expired" };
  }
  return { ok: true };
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
