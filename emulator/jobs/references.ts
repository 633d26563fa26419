/**
 * Resolves what a job names — its code, environment, compute, and the URIs of its inputs and
 * outputs — against the control plane's store, without touching storage. Used at PUT (to refuse a
 * job that cannot run) and by the runner (to know what to download and where to upload).
 */
import { asObject, type StoredResource } from "../handlers/common";
import { containerCollection, versionCollection, type AssetKind } from "../handlers/assets";
import { childId, storeKey, type WorkspaceScope } from "../state/ids";
import { COLLECTIONS } from "../state/seed";
import type { Store } from "../state/store";
import type { EnvironmentRequest } from "../envs/types";
import type { BlobLocation } from "./storage";
import { JOBS_COLLECTION, type StoredJob } from "./types";

/** A reference that names nothing usable; `target` is the property it came from. */
export class UnresolvableReference extends Error {
  override readonly name = "UnresolvableReference";
  constructor(
    message: string,
    readonly target: string,
    /** The ARM-ish status Azure would answer a PUT with. */
    readonly statusCode: 400 | 404 = 400,
  ) {
    super(message);
  }
}

export interface ReferenceContext {
  store: Store;
  scope: WorkspaceScope;
  accountName: string;
}

/** Where a URI's content lives: in the workspace storage account, or at a URL to fetch. */
export type ResolvedUri = { kind: "blob"; location: BlobLocation } | { kind: "url"; url: string };

const ARM_WS =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/(.+)$/i;

/** The workspace-relative part (`codes/x/versions/1`) of an ARM id in this workspace, else undefined. */
function workspaceRelative(ctx: ReferenceContext, id: string): string | undefined {
  const m = ARM_WS.exec(id.replace(/^azureml:/, ""));
  if (m === null) {
    return undefined;
  }
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (
    !same(m[1], ctx.scope.subscriptionId) ||
    !same(m[2], ctx.scope.resourceGroupName) ||
    !same(m[3], ctx.scope.workspaceName)
  ) {
    return undefined;
  }
  return m[4].replace(/\/+$/, "");
}

function assetVersion(
  ctx: ReferenceContext,
  kind: AssetKind,
  name: string,
  version: string,
): StoredResource | undefined {
  let v = version;
  if (v === "latest") {
    const container = ctx.store.get<StoredResource>(
      containerCollection(kind),
      storeKey(childId(ctx.scope, kind, name)),
    );
    const latest = asObject(container?.resource.properties).latestVersion;
    if (typeof latest !== "string") {
      return undefined;
    }
    v = latest;
  }
  return ctx.store.get<StoredResource>(
    versionCollection(kind),
    storeKey(childId(ctx.scope, kind, name, "versions", v)),
  );
}

/** `azureml:<name>:<version>`, `azureml:<name>@latest` or a version's ARM id → [name, version]. */
function parseAssetReference(
  ctx: ReferenceContext,
  text: string,
  kinds: readonly AssetKind[],
): { kind?: AssetKind; name: string; version: string } | undefined {
  const relative = workspaceRelative(ctx, text);
  if (relative !== undefined) {
    const m = /^(codes|environments|data|models)\/([^/]+)\/versions\/([^/]+)$/i.exec(relative);
    if (m === null) {
      return undefined;
    }
    const kind = m[1].toLowerCase() as AssetKind;
    return kinds.includes(kind) ? { kind, name: m[2], version: m[3] } : undefined;
  }
  const short = /^azureml:([^:/@]+)(?::([^:/@]+)|@(latest))$/.exec(text);
  if (short !== null) {
    return { name: short[1], version: short[2] ?? "latest" };
  }
  return undefined;
}

/** The code version's `codeUri`, resolved to blobs. */
export function resolveCode(ctx: ReferenceContext, codeId: string): ResolvedUri {
  const ref = parseAssetReference(ctx, codeId, ["codes"]);
  const record = ref === undefined ? undefined : assetVersion(ctx, "codes", ref.name, ref.version);
  if (ref === undefined || record === undefined) {
    throw new UnresolvableReference(
      ref === undefined
        ? `properties.codeId '${codeId}' is not the id of a code version in this workspace.`
        : `No code exists for name: ${ref.name}, version: ${ref.version}.`,
      "properties.codeId",
      ref === undefined ? 400 : 404,
    );
  }
  const codeUri = asObject(record.resource.properties).codeUri;
  if (typeof codeUri !== "string") {
    throw new UnresolvableReference(
      `Code ${ref.name}:${ref.version} has no codeUri.`,
      "properties.codeId",
    );
  }
  return resolveUri(ctx, codeUri, "properties.codeId");
}

/** The environment version as the environment builder needs it. */
export function resolveEnvironment(
  ctx: ReferenceContext,
  environmentId: string,
): EnvironmentRequest {
  // Registry environments (curated ones) are not in this workspace: the builder runs them on the
  // machine's Python, as it does for any image-only environment.
  if (/^azureml:\/\/registries\//i.test(environmentId)) {
    return { id: environmentId };
  }
  const ref = parseAssetReference(ctx, environmentId, ["environments"]);
  const record =
    ref === undefined ? undefined : assetVersion(ctx, "environments", ref.name, ref.version);
  if (ref === undefined || record === undefined) {
    throw new UnresolvableReference(
      ref === undefined
        ? `properties.environmentId '${environmentId}' is not the id of an environment version in this workspace.`
        : `No environment exists for name: ${ref.name}, version: ${ref.version}, label: `,
      "properties.environmentId",
      ref === undefined ? 400 : 404,
    );
  }
  const props = asObject(record.resource.properties);
  return {
    id: record.resource.id,
    image: typeof props.image === "string" ? props.image : undefined,
    condaFile: typeof props.condaFile === "string" ? props.condaFile : undefined,
  };
}

/** The compute's store key and node count; `undefined` computeId means serverless. */
export function resolveCompute(
  ctx: ReferenceContext,
  computeId: string | undefined,
): { pool: string; maxNodes: number | undefined; name: string } {
  if (computeId === undefined || computeId === "") {
    return { pool: "serverless", maxNodes: undefined, name: "serverless" };
  }
  const relative = workspaceRelative(ctx, computeId);
  const name =
    relative === undefined
      ? /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(computeId)
        ? computeId
        : undefined
      : /^computes\/([^/]+)$/i.exec(relative)?.[1];
  const key = name === undefined ? undefined : storeKey(childId(ctx.scope, "computes", name));
  const record =
    key === undefined ? undefined : ctx.store.get<StoredResource>(COLLECTIONS.computes, key);
  if (name === undefined || key === undefined || record === undefined) {
    throw new UnresolvableReference(
      name === undefined
        ? `properties.computeId '${computeId}' is not the id of a compute in this workspace.`
        : `Compute ${name} is not found in workspace ${ctx.scope.workspaceName}.`,
      "properties.computeId",
      name === undefined ? 400 : 404,
    );
  }
  const props = asObject(record.resource.properties);
  const scale = asObject(asObject(props.properties).scaleSettings);
  const max = scale.maxNodeCount;
  return {
    pool: key,
    maxNodes: typeof max === "number" && Number.isInteger(max) && max > 0 ? max : 1,
    name: record.resource.name,
  };
}

/**
 * A data URI → where its bytes are. Understands datastore URIs (short and long form), job output
 * URIs, asset references (`azureml:<name>:<version>`, data and model version ids), blob URLs of the
 * workspace's storage account, `wasbs://`, and other http(s) URLs (fetched as they are).
 */
export function resolveUri(
  ctx: ReferenceContext,
  uri: string,
  target: string,
  depth = 0,
): ResolvedUri {
  if (depth > 8) {
    throw new UnresolvableReference(`${target}: '${uri}' refers to itself.`, target);
  }
  const fail = (why: string, status: 400 | 404 = 400): never => {
    throw new UnresolvableReference(`${target}: '${uri}' ${why}`, target, status);
  };

  const datastore =
    /^azureml:\/\/(?:subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/workspaces\/([^/]+)\/)?datastores\/([^/]+)\/(?:paths\/)?(.*)$/.exec(
      uri,
    );
  if (datastore !== null) {
    const [, sub, rg, ws, name, rest] = datastore;
    if (
      sub !== undefined &&
      (sub.toLowerCase() !== ctx.scope.subscriptionId.toLowerCase() ||
        rg.toLowerCase() !== ctx.scope.resourceGroupName.toLowerCase() ||
        ws.toLowerCase() !== ctx.scope.workspaceName.toLowerCase())
    ) {
      fail("names a datastore of another workspace.");
    }
    const record = ctx.store.get<StoredResource>(
      COLLECTIONS.datastores,
      storeKey(childId(ctx.scope, "datastores", name)),
    );
    if (record === undefined) {
      fail(`names datastore ${name}, which does not exist.`, 404);
    }
    const props = asObject(record?.resource.properties);
    if (props.datastoreType !== "AzureBlob" || props.accountName !== ctx.accountName) {
      fail(
        `names datastore ${name}, which is not a blob container of the workspace storage account.`,
      );
    }
    return {
      kind: "blob",
      location: { container: String(props.containerName), prefix: decodePath(rest) },
    };
  }

  const jobOutput = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?$/.exec(uri);
  if (jobOutput !== null) {
    const [, jobName, outputName, sub] = jobOutput;
    const job = ctx.store.get<StoredJob>(
      JOBS_COLLECTION,
      storeKey(childId(ctx.scope, "jobs", jobName)),
    );
    if (job === undefined) {
      fail(`names job ${jobName}, which does not exist.`, 404);
    }
    const outputs = asObject(asObject(job?.resource.properties).outputs);
    // `artifacts` is the run's artifact folder (./outputs, logs, MLflow artifacts): the `default` output.
    const output = asObject(
      outputName === "artifacts" && outputs.artifacts === undefined
        ? outputs.default
        : outputs[outputName],
    );
    if (typeof output.uri !== "string") {
      fail(`names output ${outputName}, which job ${jobName} does not have.`, 404);
    }
    const inner = resolveUri(ctx, String(output.uri), target, depth + 1);
    if (sub === undefined || sub === "" || inner.kind !== "blob") {
      return inner;
    }
    const base = inner.location.prefix.replace(/\/+$/, "");
    return {
      kind: "blob",
      location: {
        container: inner.location.container,
        prefix: base === "" ? decodePath(sub) : `${base}/${decodePath(sub)}`,
      },
    };
  }

  if (uri.startsWith("azureml:") || ARM_WS.test(uri)) {
    const ref = parseAssetReference(ctx, uri, ["data", "models"]);
    if (ref === undefined) {
      fail("is not a datastore path, job output, or data or model asset reference.");
    }
    const kinds: AssetKind[] = ref?.kind !== undefined ? [ref.kind] : ["data", "models"];
    for (const kind of kinds) {
      const record = assetVersion(ctx, kind, String(ref?.name), String(ref?.version));
      if (record !== undefined) {
        const props = asObject(record.resource.properties);
        const inner = kind === "data" ? props.dataUri : props.modelUri;
        if (typeof inner !== "string") {
          fail("names an asset without a URI.");
        }
        return resolveUri(ctx, String(inner), target, depth + 1);
      }
    }
    fail(`names no data or model version (${ref?.name}:${ref?.version}).`, 404);
  }

  const wasb = /^wasbs?:\/\/([^@/]+)@([^./]+)\.blob\.[^/]+\/?(.*)$/.exec(uri);
  if (wasb !== null) {
    if (wasb[2] !== ctx.accountName) {
      fail("is in a storage account the emulator does not have.");
    }
    return { kind: "blob", location: { container: wasb[1], prefix: decodePath(wasb[3]) } };
  }

  if (/^https?:\/\//i.test(uri)) {
    const url = new URL(uri);
    const segments = url.pathname.split("/").filter((s) => s !== "");
    // Path style (Azurite, the front door): /<account>/<container>/<blob...>
    if (segments[0] === ctx.accountName && segments.length >= 2 && isLoopback(url.hostname)) {
      return {
        kind: "blob",
        location: { container: segments[1], prefix: decodePath(segments.slice(2).join("/")) },
      };
    }
    // Virtual-host style: <account>.blob.core.windows.net/<container>/<blob...>
    if (url.hostname.startsWith(`${ctx.accountName}.blob.`) && segments.length >= 1) {
      return {
        kind: "blob",
        location: { container: segments[0], prefix: decodePath(segments.slice(1).join("/")) },
      };
    }
    return { kind: "url", url: uri };
  }
  return fail("is not a URI the emulator can read.");
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" || host === "::1";
}

function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
