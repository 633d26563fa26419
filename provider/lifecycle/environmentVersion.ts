/**
 * EnvironmentVersion lifecycle. Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/environmentVersion")`.
 */
import { access, readFile } from "node:fs/promises";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { environmentVersionBody, type EnvironmentContent } from "../operations/assets";
import type {
  EnvironmentVersionInputs,
  EnvironmentVersionOutputs,
} from "../resources/environmentVersion";
import {
  allKnown,
  commonOutputs,
  beginAssetCheck,
  createAssetVersion,
  assetDiff,
  deleteAssetVersion,
  fingerprint,
  putAssetVersion,
  readAssetVersion,
  settleVersion,
} from "./assetVersion";
import { computeContentHash } from "../upload/contentHash";
import { uploadToDefaultDatastore } from "./datastoreUpload";
import { cachedHashing } from "./localContent";
import {
  Failures,
  isKnown,
  isRemoteUri,
  openSession,
  pathFailure,
  resolveLocalPath,
  sasFailure,
  toProjectRelative,
  UNKNOWN,
  withoutProvider,
} from "./shared";

type Config = pulumi.dynamic.Config | undefined;

const CONTENT_FIELDS = [
  "image",
  "build",
  "condaFile",
  "osType",
  "autoRebuild",
  "inferenceConfig",
] as const;
const OS_TYPES = ["Linux", "Windows"];
const AUTO_REBUILD = ["Disabled", "OnBaseImageUpdate"];

export async function check(
  olds: EnvironmentVersionInputs,
  news: EnvironmentVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<EnvironmentVersionInputs>> {
  const { inputs, failures } = beginAssetCheck(news, config, []);

  if (inputs.image === undefined && inputs.build === undefined) {
    failures.add(
      "image",
      "Give [image] or [build]: an environment needs a container image or a build context.",
    );
  } else if (inputs.image !== undefined && inputs.build !== undefined) {
    failures.add("image", "[image] and [build] are mutually exclusive.");
  }
  if (
    inputs.image !== undefined &&
    isKnown(inputs.image) &&
    (typeof inputs.image !== "string" || inputs.image.trim() === "")
  ) {
    failures.add("image", "[image] must be a non-empty image reference.");
  }
  const buildHash = await checkBuild(inputs, failures);
  if (inputs.osType !== undefined && isKnown(inputs.osType) && !OS_TYPES.includes(inputs.osType)) {
    failures.add("osType", `[osType] must be "Linux" or "Windows", got "${inputs.osType}".`);
  }
  if (
    inputs.autoRebuild !== undefined &&
    isKnown(inputs.autoRebuild) &&
    !AUTO_REBUILD.includes(inputs.autoRebuild)
  ) {
    failures.add(
      "autoRebuild",
      `[autoRebuild] must be "Disabled" or "OnBaseImageUpdate", got "${inputs.autoRebuild}".`,
    );
  }
  checkRoutes(inputs, failures);

  if (inputs.condaFile !== undefined && inputs.condaFilePath !== undefined) {
    failures.add("condaFilePath", "[condaFile] and [condaFilePath] are mutually exclusive.");
  } else if (inputs.condaFilePath !== undefined && isKnown(inputs.condaFilePath)) {
    try {
      inputs.condaFile = await readFile(resolveLocalPath(inputs.condaFilePath), "utf8");
      inputs.condaFilePath = toProjectRelative(inputs.condaFilePath);
    } catch (error) {
      failures.add(
        "condaFilePath",
        `[condaFilePath] "${inputs.condaFilePath}" cannot be read: ${(error as Error).message}`,
      );
    }
  } else if (inputs.condaFilePath !== undefined) {
    inputs.condaFile = UNKNOWN;
  }

  // A local build context counts by its files, not by where it sits on this machine.
  const content = {
    ...contentOf(inputs),
    ...(buildHash ? { build: { ...inputs.build, path: buildHash } } : {}),
  };
  const contentHash = allKnown(content) ? fingerprint(content) : UNKNOWN;
  if (!failures.any) {
    inputs.contentHash = contentHash;
    inputs.version = settleVersion(
      olds,
      inputs,
      contentHash,
      failures,
      `EnvironmentVersion ${inputs.name}`,
    );
  }
  return { inputs, failures: failures.list };
}

/**
 * A build context is a URI already in storage ([build.contextUri]) or a local folder
 * ([build.path]) uploaded on create. Returns the local folder's content hash, if any.
 */
async function checkBuild(
  inputs: EnvironmentVersionInputs,
  failures: Failures,
): Promise<string | undefined> {
  const build = inputs.build;
  if (build === undefined || !isKnown(build)) {
    return undefined;
  }
  if ((build.contextUri === undefined) === (build.path === undefined)) {
    failures.add(
      "build",
      "Give exactly one of [build.contextUri] (a context in storage) and [build.path] (a local folder).",
    );
    return undefined;
  }
  if (build.contextUri !== undefined) {
    const sas =
      typeof build.contextUri === "string"
        ? sasFailure(build.contextUri, "build.contextUri")
        : undefined;
    if (isKnown(build.contextUri) && sas) {
      failures.add("build.contextUri", sas);
    } else if (
      isKnown(build.contextUri) &&
      (typeof build.contextUri !== "string" || !isRemoteUri(build.contextUri))
    ) {
      failures.add(
        "build.contextUri",
        `[build.contextUri] must be an https or azureml:// URI, got "${String(build.contextUri)}".`,
      );
    }
    return undefined;
  }
  if (!isKnown(build.path) || !isKnown(build.dockerfilePath)) {
    return UNKNOWN;
  }
  const folder = resolveLocalPath(build.path as string);
  const dockerfile = build.dockerfilePath ?? "Dockerfile";
  try {
    await access(path.join(folder, dockerfile));
  } catch {
    failures.add(
      "build.path",
      `[build.path] "${build.path}" has no ${dockerfile} (set [build.dockerfilePath] if it has another name).`,
    );
    return undefined;
  }
  try {
    const hashed = await computeContentHash(folder, cachedHashing());
    inputs.build = { ...build, path: toProjectRelative(build.path as string) };
    return hashed.hash;
  } catch (error) {
    failures.add(
      "build.path",
      pathFailure(build.path as string, error).replace("[path]", "[build.path]"),
    );
    return undefined;
  }
}

function checkRoutes(inputs: EnvironmentVersionInputs, failures: Failures): void {
  const config = inputs.inferenceConfig;
  if (config === undefined || !isKnown(config)) {
    return;
  }
  for (const key of ["livenessRoute", "readinessRoute", "scoringRoute"] as const) {
    const route = config[key];
    if (route === undefined || !isKnown(route)) {
      continue;
    }
    if (isKnown(route.path) && (typeof route.path !== "string" || route.path === "")) {
      failures.add(`inferenceConfig.${key}.path`, `[inferenceConfig.${key}.path] is required.`);
    }
    if (
      isKnown(route.port) &&
      (!Number.isInteger(route.port) || route.port < 1 || route.port > 65535)
    ) {
      failures.add(
        `inferenceConfig.${key}.port`,
        `[inferenceConfig.${key}.port] must be a port number (1-65535).`,
      );
    }
  }
}

function contentOf(inputs: EnvironmentVersionInputs): EnvironmentContent {
  const content: Record<string, unknown> = {};
  for (const key of CONTENT_FIELDS) {
    if (inputs[key] !== undefined) {
      content[key] = inputs[key];
    }
  }
  return content as EnvironmentContent;
}

export const diff = assetDiff<EnvironmentVersionOutputs, EnvironmentVersionInputs>({
  type: "EnvironmentVersion",
  content: [...CONTENT_FIELDS, "condaFilePath"],
});

async function apply(
  inputs: EnvironmentVersionInputs,
  config: Config,
  stored?: { buildContextUri?: string },
): Promise<EnvironmentVersionOutputs> {
  const session = openSession(inputs, config);
  const version = inputs.version as string;
  let buildContextUri = stored?.buildContextUri ?? inputs.build?.contextUri;
  if (inputs.build?.path !== undefined && buildContextUri === undefined) {
    const uploaded = await uploadToDefaultDatastore(session, resolveLocalPath(inputs.build.path), {
      type: "EnvironmentVersion",
      name: inputs.name,
      version,
    });
    buildContextUri = uploaded.uri;
  }
  const content = contentOf(inputs);
  if (content.build && buildContextUri) {
    content.build = { contextUri: buildContextUri, dockerfilePath: inputs.build?.dockerfilePath };
  }
  const body = environmentVersionBody(content, inputs);
  await putAssetVersion(session, "environments", inputs.name, version, body);
  const assetUri = inputs.image ?? buildContextUri ?? "";
  return {
    ...inputs,
    ...commonOutputs(session, "environments", inputs, version, assetUri),
    ...(buildContextUri ? { buildContextUri } : {}),
  };
}

export const create = createAssetVersion<EnvironmentVersionInputs, EnvironmentVersionOutputs>(
  (inputs, config) => apply(inputs, config),
);

export const read = readAssetVersion<EnvironmentVersionOutputs>("environments");

export async function update(
  _id: string,
  olds: EnvironmentVersionOutputs,
  news: EnvironmentVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<EnvironmentVersionOutputs>> {
  // Same content (else diff replaces): keep the build context already uploaded.
  return {
    outs: await apply(withoutProvider(news), config, { buildContextUri: olds.buildContextUri }),
  };
}

const remove = deleteAssetVersion<EnvironmentVersionOutputs>("environments");

export { remove as delete };
