/**
 * Keeps secrets out of logs and error messages: SAS signatures, OAuth codes and tokens in query
 * strings, and bearer tokens in free text. Pure.
 */

const REDACTED = "REDACTED";

/**
 * Query parameter names whose values are secrets. `sig` is the only secret part of a SAS; `se`,
 * `sp`, `sv` and friends are kept because they help debugging (expiry, permissions, version).
 */
const SECRET_PARAM = /^(sig|signature|code|client_secret|password|.*token.*|.*secret.*|.*key)$/i;

/** True when a query parameter with this name carries a secret value. */
export function isSecretQueryParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/** Returns the URL with secret query values replaced by `REDACTED`; other parts stay as they were. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf("?");
  if (queryStart < 0) {
    return url;
  }
  const hashStart = url.indexOf("#", queryStart);
  const query = url.slice(queryStart + 1, hashStart < 0 ? undefined : hashStart);
  const redacted = query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) {
        return pair;
      }
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // Keep the raw name; a malformed escape is not a reason to leak the value.
      }
      return isSecretQueryParam(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join("&");
  return `${url.slice(0, queryStart)}?${redacted}${hashStart < 0 ? "" : url.slice(hashStart)}`;
}

/**
 * Redacts secrets inside free text such as a service error message: `sig=…`-style query values
 * and `Bearer <token>`.
 */
export function redactText(text: string): string {
  return text
    .replace(/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/g, `Bearer ${REDACTED}`)
    .replace(/([?&])([^=&\s"'<>]+)=([^&\s"'<>]*)/g, (match, sep: string, name: string) =>
      isSecretQueryParam(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : match,
    );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
