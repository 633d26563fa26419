// A provider host to kill half way through a CodeVersion upload (test/upload/codeResume.test.ts):
// configures the CodeVersion provider with the stack config argv[2] (JSON), then checks and
// creates the inputs argv[3] (JSON) as `pulumi up` does, and prints the outputs as one JSON line.
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../../provider/resources/lazyProvider";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as Record<string, string>;
  const news = JSON.parse(process.argv[3]) as Record<string, unknown>;
  const provider = lazyProvider<any, any>("pulumi-azureml/provider/lifecycle/codeVersion");
  await provider.configure!({ config: new Config(config, "test") });
  const checked = await provider.check!({}, news);
  if (checked.failures && checked.failures.length > 0) {
    throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
  }
  const created = await provider.create(checked.inputs);
  process.stdout.write(`${JSON.stringify(created.outs)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
