// Loads a serialized dynamic provider in-process exactly the way Pulumi's provider host does
// (`@pulumi/pulumi/cmd/dynamic-provider`, getProvider): require-from-string, `handler()`, then
// `configure` with the host's own Config class. Importing the host module itself would run its
// main(), so only its two building blocks are used here.
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

const requireFromString: (
  code: string,
  filename?: string,
  options?: { prependPaths?: string[] },
) => any = require("require-from-string");
const { Config: HostConfig } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (rawConfig: Record<string, string>, project: string) => pulumi.dynamic.Config;
};
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: {
    fromJavaScript(v: Record<string, unknown>): { toJavaScript(): Record<string, unknown> };
  };
};

/** The string the engine sends for every unknown value, whatever its type. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface LoadLikeHostOptions {
  /**
   * The host's working directory, from which the text's `require()` and `import()` resolve.
   * Omitted: the process's cwd, which is what the host itself does. Given: resolution behaves as
   * if the host had been started in that directory.
   */
  readonly cwd?: string;
}

/**
 * Deserializes a `__provider` text and configures it with the namespaced stack config
 * (`"azureml:armEndpoint"`), as the host does once per provider text.
 */
export async function loadLikeHost(
  providerText: string,
  stackConfig: Record<string, string>,
  project: string,
  options: LoadLikeHostOptions = {},
): Promise<pulumi.dynamic.ResourceProvider> {
  const loaded =
    options.cwd === undefined ? requireFromString(providerText) : requireIn(options.cwd);
  const provider = loaded.handler() as pulumi.dynamic.ResourceProvider;
  if (provider.configure) {
    await provider.configure({ config: new HostConfig({ ...stackConfig }, project) });
  }
  return provider;

  // The host compiles the text with an empty file name, so `import()` resolves from the cwd
  // ("imported from <cwd>/") and `require()` searches <cwd>/node_modules upwards. A file name
  // ending in a separator reproduces both for another directory.
  function requireIn(cwd: string) {
    const dir = path.resolve(cwd);
    return requireFromString(providerText, dir + path.sep, {
      prependPaths: (Module as any)._nodeModulePaths(dir),
    });
  }
}

/**
 * The google.protobuf.Struct round trip every argument and result makes between engine and
 * host: `undefined` throws "Unexpected struct type.", dates and maps become `{}`.
 */
export function viaStruct<T extends object>(value: T): T {
  return Struct.fromJavaScript(value as Record<string, unknown>).toJavaScript() as T;
}

/** What the mock engine saw when one resource registered. */
export interface CapturedRegistration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/**
 * Runs `construct` under `pulumi.runtime.setMocks` and returns the registration of the resource
 * called `name`. Resets the process-wide Pulumi runtime, so never call it while a program runs.
 */
export async function captureRegistration(
  construct: () => pulumi.Resource,
  name: string,
): Promise<CapturedRegistration> {
  const seen = new Map<string, CapturedRegistration>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.set(args.name, { type: args.type, name: args.name, inputs: args.inputs });
        return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "capture",
    "capture",
    false,
  );
  const resource = construct();
  await (resource.urn as unknown as { promise(): Promise<string> }).promise();
  const registration = seen.get(name);
  if (!registration) {
    throw new Error(`no resource named "${name}" was registered (saw: ${[...seen.keys()]})`);
  }
  return registration;
}

/**
 * The `__provider` text the engine would store for the resource `name`. A provider that
 * captured a secret arrives wrapped; the text inside is returned.
 */
export async function captureProviderText(
  construct: () => pulumi.Resource,
  name: string,
): Promise<string> {
  const { inputs } = await captureRegistration(construct, name);
  const raw = inputs.__provider;
  const text = typeof raw === "object" && raw !== null && "value" in raw ? raw.value : raw;
  if (typeof text !== "string") {
    throw new Error(`resource "${name}" registered without a __provider string`);
  }
  return text;
}
