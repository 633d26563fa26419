// An App Service style managed-identity token endpoint, so clients run the real credential chain:
// DefaultAzureCredential picks it up from IDENTITY_ENDPOINT and IDENTITY_HEADER (MSAL's App Service
// source). App Service serves it over plain http on loopback too, so no TLS here.
import { randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import { closeHttpServer, KEEP_ALIVE_TIMEOUT_IN_MS, listen } from "./net";
import { ACCEPTED_AUDIENCES, ARM_AUDIENCE, decodeToken, ML_AUDIENCE } from "./tokens";

/** The App Service managed-identity API version MSAL sends and this endpoint accepts. */
export const IDENTITY_API_VERSION = "2019-08-01";
/** The path of the token endpoint. */
export const IDENTITY_PATH = "/msi/token";
/** The header carrying the shared secret (App Service's X-IDENTITY-HEADER). */
export const IDENTITY_SECRET_HEADER = "x-identity-header";

/** The audience of the tokens issued for each plane. */
export const TOKEN_RESOURCES = { arm: ARM_AUDIENCE, ml: ML_AUDIENCE } as const;

export type TokenAudience = keyof typeof TOKEN_RESOURCES;

/** One request the endpoint answered, for the emulator's request log. */
export interface IdentityRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  requestId: string;
}

/** Options for startIdentityEndpoint. */
export interface IdentityEndpointOptions {
  /** Issues a token for the audience asked for (called per request, so tokens never go stale). */
  readonly issueToken: (audience: TokenAudience) => string;
  /** Loopback address to bind. @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The value clients must send in X-IDENTITY-HEADER. @default a random secret */
  readonly secret?: string;
  /** Called once per answered request (the secret is never passed on). */
  readonly onRequest?: (request: IdentityRequest) => void;
  /**
   * More resources naming a plane: a client that found the emulator through its ARM metadata
   * document asks for the ARM endpoint's own URL (`https://127.0.0.1:<port>`).
   */
  readonly audienceAliases?: AudienceAliases;
}

/** Extra resource URLs per plane, accepted besides the public cloud's audiences. */
export type AudienceAliases = Readonly<Partial<Record<TokenAudience, readonly string[]>>>;

/** A running token endpoint; export `endpoint` as IDENTITY_ENDPOINT and `secret` as IDENTITY_HEADER. */
export interface RunningIdentityEndpoint {
  readonly endpoint: string;
  readonly secret: string;
  close(): Promise<void>;
}

/** Maps a requested resource (or `<resource>/.default` scope) to the plane whose tokens it names. */
export function resolveTokenAudience(
  resource: string,
  aliases: AudienceAliases = {},
): TokenAudience | undefined {
  const normalize = (value: string) =>
    value
      .trim()
      .replace(/\/\.default$/, "")
      .replace(/\/+$/, "")
      .toLowerCase();
  const normalized = normalize(resource);
  for (const audience of Object.keys(TOKEN_RESOURCES) as TokenAudience[]) {
    const accepted = [
      ...ACCEPTED_AUDIENCES[TOKEN_RESOURCES[audience]],
      ...(aliases[audience] ?? []),
    ];
    if (accepted.some((a) => normalize(a) === normalized)) {
      return audience;
    }
  }
  return undefined;
}

/** The outcome of one token request: a status and a JSON body. */
export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Options for answerTokenRequest. */
export interface AnswerTokenRequestOptions {
  readonly method: string;
  readonly url: URL;
  readonly secretHeader: string | undefined;
  readonly secret: string;
  readonly issueToken: (audience: TokenAudience) => string;
  readonly nowInSeconds: number;
  readonly audienceAliases?: AudienceAliases;
}

/** Decides the answer to one token request, the way App Service does: a pure function. */
export function answerTokenRequest(options: AnswerTokenRequestOptions): TokenResponse {
  const { url } = options;
  if (url.pathname !== IDENTITY_PATH) {
    return failure(
      404,
      "not_found",
      `No endpoint at ${url.pathname}; tokens are served at ${IDENTITY_PATH}.`,
    );
  }
  if (options.method !== "GET") {
    return failure(405, "method_not_allowed", "Only GET is supported.");
  }
  if (options.secretHeader === undefined || options.secretHeader === "") {
    return failure(401, "unauthorized", "The X-IDENTITY-HEADER header is missing.");
  }
  if (options.secretHeader !== options.secret) {
    return failure(
      403,
      "forbidden",
      "The X-IDENTITY-HEADER header does not match IDENTITY_HEADER.",
    );
  }
  const apiVersion = url.searchParams.get("api-version");
  if (apiVersion !== IDENTITY_API_VERSION) {
    return failure(
      400,
      "invalid_request",
      `api-version must be ${IDENTITY_API_VERSION}; got ${apiVersion ?? "none"}.`,
    );
  }
  const resource = url.searchParams.get("resource");
  const audience =
    resource === null ? undefined : resolveTokenAudience(resource, options.audienceAliases);
  if (resource === null || audience === undefined) {
    return failure(
      400,
      "invalid_resource",
      `The emulator issues tokens only for ${Object.values(TOKEN_RESOURCES).join(" and ")}; ` +
        `got ${resource ?? "none"}.`,
    );
  }
  const token = options.issueToken(audience);
  // App Service reports expires_on as a string of epoch seconds; MSAL accepts that form.
  const exp = decodeToken(token)?.claims.exp;
  const expiresOn = typeof exp === "number" ? exp : options.nowInSeconds + 3600;
  return {
    status: 200,
    body: {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: "Bearer",
      client_id: EMULATOR_CLIENT_ID,
    },
  };
}

/** The client id the emulator's managed identity reports. */
export const EMULATOR_CLIENT_ID = "00000000-0000-0000-0000-00000000a11d";

function failure(status: number, error: string, description: string): TokenResponse {
  return { status, body: { statusCode: status, error, error_description: description } };
}

/** The request target as a URL, or undefined when it cannot be parsed (e.g. `//[`). */
export function parseRequestUrl(target: string | undefined, host: string): URL | undefined {
  try {
    return new URL(target ?? "/", `http://${host}`);
  } catch {
    return undefined;
  }
}

/** Starts the token endpoint on http://127.0.0.1:<port>/msi/token. */
export async function startIdentityEndpoint(
  options: IdentityEndpointOptions,
): Promise<RunningIdentityEndpoint> {
  const host = options.host ?? "127.0.0.1";
  const secret = options.secret ?? randomBytes(24).toString("base64url");
  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    const requestId = randomUUID();
    const method = req.method ?? "GET";
    const url = parseRequestUrl(req.url, host);
    const header = req.headers[IDENTITY_SECRET_HEADER];
    let answer: TokenResponse;
    try {
      answer =
        url === undefined
          ? failure(400, "invalid_request", "The request target is not a valid URL.")
          : answerTokenRequest({
              method,
              url,
              secretHeader: Array.isArray(header) ? header[0] : header,
              secret,
              issueToken: options.issueToken,
              nowInSeconds: Math.floor(Date.now() / 1000),
              audienceAliases: options.audienceAliases,
            });
    } catch (error) {
      answer = failure(500, "server_error", `The emulator failed: ${String(error)}`);
    }
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "x-ms-request-id": requestId,
    });
    res.end(body);
    options.onRequest?.({
      method,
      path: url?.pathname ?? (req.url ?? "/").split("?")[0],
      query: url?.search.replace(/^\?/, "") ?? "",
      status: res.headersSent ? answer.status : 0,
      requestId,
    });
  };
  const server = http.createServer((req, res) => {
    // A write to a socket the client already closed must not become an uncaught error.
    res.on("error", () => undefined);
    try {
      serve(req, res);
    } catch (error) {
      process.stderr.write(`azureml-emulator: identity endpoint failed: ${String(error)}\n`);
      res.destroy();
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_IN_MS;
  const port = await listen(server, host, options.port ?? 0);
  return {
    endpoint: `http://${host}:${port}${IDENTITY_PATH}`,
    secret,
    close: () => closeHttpServer(server),
  };
}
