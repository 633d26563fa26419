/**
 * Transport overhead and LRO request counts, against the shared bench emulator.
 *
 * 1. Overhead: N environment-version PUTs through `createAzureMlClient` versus the same PUTs with
 *    raw undici `request` on an identical Agent (same TLS trust, same keep-alive, same bearer
 *    token header, JSON parsed on both sides). Run in interleaved blocks, alternating which side
 *    goes first, after a warm-up, so both see the same server state and JIT. Target ≤ 1.2x on
 *    the median. The same comparison against a bare HTTPS server that answers at once shows the
 *    client-side cost that the emulator's own time hides.
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
import { benchCertDir, getBenchEmulator } from "./index";

const PUTS = 300;
const WARM_UP = 200;
const BLOCK = 10;
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function measureOverhead(
  client: AzureMlClient,
  raw: RawContext,
  workspacePath: string,
  label = "",
): Promise<Record<string, number>> {
  // One name sequence for both sides, so neither gets a cheaper spot in the emulator's store.
  const run = Date.now().toString(36);
  let seq = 0;
  const nextPath = () => `${workspacePath}/environments/bench-${run}-${seq++}/versions/1`;
  const sides = {
    client: (path: string) =>
      client.put(path, environmentBody(), "EnvironmentVersions_CreateOrUpdate"),
    raw: (path: string) => rawPut(raw, path, environmentBody()),
  };
  for (let i = 0; i < WARM_UP; i++) {
    await sides.client(nextPath());
    await sides.raw(nextPath());
  }
  const durations: Record<keyof typeof sides, number[]> = { client: [], raw: [] };
  for (let block = 0; block < PUTS / BLOCK; block++) {
    const order: (keyof typeof sides)[] = block % 2 === 0 ? ["client", "raw"] : ["raw", "client"];
    for (const side of order) {
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now();
        await sides[side](nextPath());
        durations[side].push(performance.now() - started);
      }
    }
  }
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const figures: Record<string, number> = {
    "raw undici ms/PUT (mean)": total(durations.raw) / PUTS,
    "transport ms/PUT (mean)": total(durations.client) / PUTS,
    "raw undici ms/PUT (median)": median(durations.raw),
    "transport ms/PUT (median)": median(durations.client),
    "overhead ratio, totals": total(durations.client) / total(durations.raw),
    "overhead ratio, medians": median(durations.client) / median(durations.raw),
  };
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${label}${k}`, v]));
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

/**
 * An HTTPS server (the emulator's certificate) that answers every request at once with a small
 * JSON body: against it, the client-side cost of the transport is not hidden by server time.
 */
async function startBareServer(): Promise<{ url: string; close(): Promise<void> }> {
  const https = await import("node:https");
  const { prepareTls } = require("../emulator/tls") as typeof import("../emulator/tls");
  const tls = await prepareTls({ certDir: benchCertDir() });
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json; charset=utf-8" });
      res.end('{"name":"1","properties":{"description":"bench"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
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
  const bare = await startBareServer();
  try {
    const overhead = await measureOverhead(client, raw, info.workspaceId);
    const bareClient = createAzureMlClient({ settings: { ...settings, armEndpoint: bare.url } });
    const bareOverhead = await measureOverhead(
      bareClient,
      { ...raw, armEndpoint: bare.url },
      info.workspaceId,
      "bare server: ",
    );
    const lro = await measureLroRequests(client, raw, emulator, info.workspaceId);
    return {
      "PUTs per side": PUTS,
      ...overhead,
      // Judged on medians: on a shared machine a single GC or scheduling pause in the emulator
      // lands on whichever side is running and swings the totals by ±10%.
      "overhead verdict (target <= 1.2)":
        overhead["overhead ratio, medians"]! <= TARGET_OVERHEAD ? "ok" : "over target",
      ...bareOverhead,
      ...lro,
    };
  } finally {
    await dispatcher.close();
    await bare.close();
  }
}
