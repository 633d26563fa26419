/**
 * Transport overhead and LRO request counts, against the shared bench emulator.
 *
 * 1. Overhead: N environment-version PUTs through `createAzureMlClient` versus the same PUTs with
 *    raw undici `request` on an identical Agent (same TLS trust, same keep-alive, same bearer
 *    token header, JSON parsed on both sides). Run in interleaved blocks, alternating which side
 *    goes first, after a warm-up, so both see the same server state and JIT. Target ≤ 1.2x.
 * 2. Requests per LRO: what `beginPut(...).pollUntilDone()` sends for a compute PUT and for a
 *    scenario route, versus a hand-written minimal client that does exactly what the contract
 *    requires: the initial request, status polls until terminal, and the final GET. Target 1.0x.
 */
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { RunningEmulator } from "../emulator/index";
import { createAzureMlClient, type AzureMlClient } from "../provider/core/client";
import { createAgentOptions } from "../provider/core/http";
import { normalizeStatus } from "../provider/core/lro";
import { resolveSettings, type AzureMlSettings } from "../provider/core/settings";
import { getBenchEmulator } from "./index";

const PUTS = 300;
const WARM_UP = 30;
const BLOCK = 25;
const TARGET_OVERHEAD = 1.2;
const SCENARIO_POLLS = 3;

interface RawContext {
  dispatcher: Dispatcher;
  request: typeof import("undici").request;
  token: string;
  armEndpoint: string;
  apiVersion: string;
}

/** One raw PUT with undici, shaped like the transport's request. */
async function rawPut(raw: RawContext, path: string, body: unknown): Promise<unknown> {
  const response = await raw.request(`${raw.armEndpoint}${path}?api-version=${raw.apiVersion}`, {
    method: "PUT",
    dispatcher: raw.dispatcher,
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      authorization: `Bearer ${raw.token}`,
      "x-ms-client-request-id": randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const parsed = await response.body.json();
  if (response.statusCode >= 300) {
    throw new Error(`raw PUT ${path} answered ${response.statusCode}: ${JSON.stringify(parsed)}`);
  }
  return parsed;
}

/** One raw GET of an absolute URL. */
async function rawGet(
  raw: RawContext,
  url: string,
): Promise<{ statusCode: number; body: unknown }> {
  const response = await raw.request(url, {
    method: "GET",
    dispatcher: raw.dispatcher,
    headers: { accept: "application/json", authorization: `Bearer ${raw.token}` },
  });
  const text = await response.body.text();
  return { statusCode: response.statusCode, body: text ? JSON.parse(text) : undefined };
}

function environmentBody(): unknown {
  return {
    properties: {
      description: "bench",
      image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    },
  };
}

async function measureOverhead(
  client: AzureMlClient,
  raw: RawContext,
  workspacePath: string,
): Promise<Record<string, number>> {
  const run = `${Date.now().toString(36)}`;
  let seq = 0;
  const nextPath = (side: string) =>
    `${workspacePath}/environments/bench-${side}-${run}-${seq++}/versions/1`;
  const viaClient = (path: string) =>
    client.put(path, environmentBody(), "EnvironmentVersions_CreateOrUpdate");
  const viaRaw = (path: string) => rawPut(raw, path, environmentBody());

  for (let i = 0; i < WARM_UP; i++) {
    await viaClient(nextPath("warm"));
    await viaRaw(nextPath("warm"));
  }
  let clientMs = 0;
  let rawMs = 0;
  for (let block = 0; block < PUTS / BLOCK; block++) {
    const sides: ["client" | "raw", (path: string) => Promise<unknown>][] = [
      ["client", viaClient],
      ["raw", viaRaw],
    ];
    if (block % 2 === 1) {
      sides.reverse();
    }
    for (const [side, put] of sides) {
      const started = performance.now();
      for (let i = 0; i < BLOCK; i++) {
        await put(nextPath(side));
      }
      const elapsed = performance.now() - started;
      if (side === "client") {
        clientMs += elapsed;
      } else {
        rawMs += elapsed;
      }
    }
  }
  return {
    "PUTs per side": PUTS,
    "raw undici ms/PUT": rawMs / PUTS,
    "transport ms/PUT": clientMs / PUTS,
    "overhead ratio (target <= 1.2)": clientMs / rawMs,
  };
}

/** Requests the emulator saw since `mark` on the ARM plane (the identity endpoint excluded). */
function armRequestsSince(emulator: RunningEmulator, mark: number): number {
  return emulator.requests.since(mark).filter((r) => r.plane === "arm").length;
}

/** The contract's minimum: initial request, status polls until terminal, final GET. */
async function minimalLro(
  raw: RawContext,
  path: string,
  body: unknown,
  statusOf: (poll: { statusCode: number; body: unknown }) => string,
): Promise<void> {
  const response = await raw.request(`${raw.armEndpoint}${path}?api-version=${raw.apiVersion}`, {
    method: "PUT",
    dispatcher: raw.dispatcher,
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      authorization: `Bearer ${raw.token}`,
    },
    body: JSON.stringify(body),
  });
  await response.body.text();
  const statusUrl = response.headers["azure-asyncoperation"];
  if (typeof statusUrl !== "string") {
    throw new Error(
      `${path}: expected an Azure-AsyncOperation header (got ${response.statusCode}).`,
    );
  }
  for (let polls = 0; ; polls++) {
    if (polls > 1000) {
      throw new Error(`${path}: never reached a terminal state.`);
    }
    const status = normalizeStatus(statusOf(await rawGet(raw, statusUrl)));
    if (status === "succeeded") {
      break;
    }
    if (status === "failed" || status === "canceled") {
      throw new Error(`${path}: ended ${status}.`);
    }
  }
  await rawGet(raw, `${raw.armEndpoint}${path}?api-version=${raw.apiVersion}`);
}

async function measureLroRequests(
  client: AzureMlClient,
  raw: RawContext,
  emulator: RunningEmulator,
  workspacePath: string,
): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const statusOf = (poll: { body: unknown }) => String((poll.body as { status?: unknown })?.status);
  const cases: { name: string; path: (id: string) => string; body: unknown }[] = [
    {
      name: "compute PUT",
      path: (id) => `${workspacePath}/computes/bench${id.slice(0, 8)}`,
      body: {
        location: emulator.info.location,
        properties: {
          computeType: "AmlCompute",
          properties: {
            vmSize: "STANDARD_DS3_V2",
            scaleSettings: { minNodeCount: 0, maxNodeCount: 1 },
          },
        },
      },
    },
    {
      name: `scenario put/201/asyncop/${SCENARIO_POLLS}`,
      path: (id) => `/_scenarios/bench-${id}/put/201/asyncop/${SCENARIO_POLLS}/succeeded`,
      body: { properties: {} },
    },
  ];
  for (const lro of cases) {
    let mark = emulator.requests.mark();
    await minimalLro(raw, lro.path(randomUUID().replace(/-/g, "")), lro.body, statusOf);
    const minimum = armRequestsSince(emulator, mark);

    mark = emulator.requests.mark();
    const operation = await client.beginPut(
      lro.path(randomUUID().replace(/-/g, "")),
      lro.body,
      "Bench_LongRunningPut",
    );
    await operation.pollUntilDone();
    const ours = armRequestsSince(emulator, mark);
    figures[`${lro.name}: contract minimum requests`] = minimum;
    figures[`${lro.name}: transport requests`] = ours;
    figures[`${lro.name}: ratio (target 1.0)`] = ours / minimum;
  }
  return figures;
}

/** Runs both measurements; see the file comment. */
export async function run(): Promise<Record<string, number | string>> {
  const emulator = await getBenchEmulator();
  const { info } = emulator;
  const settings: AzureMlSettings = {
    ...resolveSettings(undefined, {}),
    armEndpoint: info.armEndpoint,
    subscriptionId: info.subscriptionId,
    caCertPath: info.caCertPath,
    pollIntervalInMs: 0,
  };
  const client = createAzureMlClient({ settings });
  const undici = await import("undici");
  const dispatcher = new undici.Agent(
    await createAgentOptions({
      caCertPath: settings.caCertPath,
      requestTimeoutInMs: settings.requestTimeoutInMs,
    }),
  );
  const raw: RawContext = {
    dispatcher,
    request: undici.request,
    token: info.token,
    armEndpoint: info.armEndpoint,
    apiVersion: settings.apiVersion,
  };
  try {
    const overhead = await measureOverhead(client, raw, info.workspaceId);
    const lro = await measureLroRequests(client, raw, emulator, info.workspaceId);
    return {
      ...overhead,
      "overhead verdict":
        overhead["overhead ratio (target <= 1.2)"]! <= TARGET_OVERHEAD ? "ok" : "over target",
      ...lro,
    };
  } finally {
    await dispatcher.close();
  }
}
