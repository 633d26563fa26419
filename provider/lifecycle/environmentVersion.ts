/**
 * EnvironmentVersion lifecycle. Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/environmentVersion")`.
 */
import { readFile } from "node:fs/promises";
import type * as pulumi from "@pulumi/pulumi";
import { environmentVersionBody, type EnvironmentContent } from "../operations/assets";
import type {
  EnvironmentVersionInputs,
  EnvironmentVersionOutputs,
} from "../resources/environmentVersion";
import {
  allKnown,
  commonOutputs,
  DEFAULT_ON_DELETE,
  fingerprint,
  IDENTITY_FIELDS,
  MUTABLE_FIELDS,
  putAssetVersion,
  refreshAssetVersion,
  removeAssetVersion,
  settleVersion,
} from "./assetVersion";
import {
  checkAssetCommon,
  checkWorkspace,
  Failures,
  isKnown,
  openSession,
  planDiff,
  resolveLocalPath,
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
): Promise<pulumi.dynamic.CheckResult<EnvironmentVersionInputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  checkWorkspace(inputs, failures);
  checkAssetCommon(inputs, failures);

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
  if (inputs.build !== undefined && isKnown(inputs.build) && isKnown(inputs.build.contextUri)) {
    if (typeof inputs.build.contextUri !== "string" || inputs.build.contextUri === "") {
      failures.add(
        "build.contextUri",
        "[build.contextUri] is required: the URI of the Docker build context.",
      );
    }
  }
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

  const content = contentOf(inputs);
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

export async function diff(
  _id: string,
  olds: EnvironmentVersionOutputs,
  news: EnvironmentVersionInputs,
): Promise<pulumi.dynamic.DiffResult> {
  return planDiff(olds as never, news as never, {
    replace: [...IDENTITY_FIELDS, ...CONTENT_FIELDS, "contentHash"],
    update: [...MUTABLE_FIELDS, "condaFilePath"],
  });
}

async function apply(
  inputs: EnvironmentVersionInputs,
  config: Config,
): Promise<EnvironmentVersionOutputs> {
  const session = openSession(inputs, config);
  const version = inputs.version as string;
  const body = environmentVersionBody(contentOf(inputs), inputs);
  await putAssetVersion(session, "environments", inputs.name, version, body);
  const assetUri = inputs.image ?? inputs.build?.contextUri ?? "";
  return { ...inputs, ...commonOutputs(session, "environments", inputs, version, assetUri) };
}

export async function create(
  news: EnvironmentVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<EnvironmentVersionOutputs>> {
  const outs = await apply(withoutProvider(news), config);
  return { id: outs.assetId, outs };
}

export async function read(
  id: string,
  props: EnvironmentVersionOutputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<EnvironmentVersionOutputs>> {
  const current = withoutProvider(props);
  const refreshed = await refreshAssetVersion(
    openSession(current, config),
    "environments",
    current,
  );
  return refreshed ? { id, props: refreshed } : {};
}

export async function update(
  _id: string,
  _olds: EnvironmentVersionOutputs,
  news: EnvironmentVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<EnvironmentVersionOutputs>> {
  return { outs: await apply(withoutProvider(news), config) };
}

export async function remove(
  _id: string,
  props: EnvironmentVersionOutputs,
  config?: Config,
): Promise<void> {
  const session = openSession(props, config);
  await removeAssetVersion(
    session,
    "environments",
    props.name,
    props.version,
    props.onDelete ?? DEFAULT_ON_DELETE,
  );
}

export { remove as delete };
