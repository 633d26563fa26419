/**
 * Direct ARM calls against the emulator for assertions, independent of the code under test.
 */
import { Agent, request } from "undici";
import { readFileSync } from "node:fs";
import { getEmulator } from "./emulator";

let agent: Agent | undefined;

function dispatcher(): Agent {
  agent ??= new Agent({ connect: { ca: readFileSync(getEmulator().info.caCertPath) } });
  return agent;
}

/** GET an ARM path (api-version 2024-04-01) with the emulator's token; 404 → undefined. */
export async function armGet(path: string): Promise<any> {
  const { info } = getEmulator();
  const separator = path.includes("?") ? "&" : "?";
  const response = await request(`${info.armEndpoint}${path}${separator}api-version=2024-04-01`, {
    headers: { authorization: `Bearer ${info.token}` },
    dispatcher: dispatcher(),
  });
  const body = await response.body.text();
  if (response.statusCode === 404) {
    return undefined;
  }
  if (response.statusCode !== 200) {
    throw new Error(`GET ${path}: ${response.statusCode} ${body}`);
  }
  return JSON.parse(body);
}

export async function getAsset(id: string): Promise<any> {
  return armGet(id);
}

/** The answer to {@link armCall}: status, lower-cased headers and the parsed body. */
export interface ArmReply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * Any ARM call (api-version 2024-04-01 unless the path or URL has one) with the emulator's token.
 * `pathOrUrl` is an ARM path or an absolute URL (an operation URL the emulator handed out).
 */
export async function armCall(
  method: string,
  pathOrUrl: string,
  body?: unknown,
): Promise<ArmReply> {
  const { info } = getEmulator();
  const absolute = pathOrUrl.startsWith("https://") ? pathOrUrl : `${info.armEndpoint}${pathOrUrl}`;
  const url = /[?&]api-version=/.test(absolute)
    ? absolute
    : `${absolute}${absolute.includes("?") ? "&" : "?"}api-version=2024-04-01`;
  const response = await request(url, {
    method: method as "GET",
    headers: {
      authorization: `Bearer ${info.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: dispatcher(),
  });
  const text = await response.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(response.headers)) {
    headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return { status: response.statusCode, headers, body: text === "" ? undefined : JSON.parse(text) };
}

async function send(method: "PUT" | "DELETE", path: string, body?: unknown): Promise<void> {
  const reply = await armCall(method, path, body);
  if (reply.status >= 300) {
    throw new Error(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

/** PUT a resource body to an ARM path, as a change made behind the code under test's back. */
export function armPut(path: string, body: unknown): Promise<void> {
  return send("PUT", path, body);
}

/** DELETE an ARM path, as a change made behind the code under test's back. */
export function armDelete(path: string): Promise<void> {
  return send("DELETE", path);
}
