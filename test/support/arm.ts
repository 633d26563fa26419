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

async function send(method: "PUT" | "DELETE", path: string, body?: unknown): Promise<void> {
  const { info } = getEmulator();
  const separator = path.includes("?") ? "&" : "?";
  const response = await request(`${info.armEndpoint}${path}${separator}api-version=2024-04-01`, {
    method,
    headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: dispatcher(),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) {
    throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
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
