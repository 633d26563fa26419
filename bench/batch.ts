/**
 * Batch deployments: the ARM requests the provider makes to create one, against the minimum the
 * contract allows (a PUT, one Azure-AsyncOperation status poll and the final GET of the original
 * URI: 3), with the emulator answering every operation at its first poll.
 */
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../provider/resources/lazyProvider";
import { getBenchEmulator, type BenchFigures } from "./index";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

/** PUT + one status poll + the final GET (contract 3, 6.3). */
export const CONTRACT_MINIMUM_REQUESTS = 3;

async function configured(kind: string, config: pulumi.dynamic.Config) {
  const provider = lazyProvider<any, any>(`pulumi-azureml/provider/lifecycle/${kind}`);
  await provider.configure!({ config });
  return provider as Required<pulumi.dynamic.ResourceProvider<any, any>>;
}

async function checkAndCreate(
  provider: Required<pulumi.dynamic.ResourceProvider<any, any>>,
  news: Record<string, unknown>,
) {
  const checked = await provider.check({}, news);
  if (checked.failures && checked.failures.length > 0) {
    throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
  }
  return provider.create(checked.inputs);
}

export async function run(): Promise<BenchFigures> {
  const emulator = await getBenchEmulator();
  const { info } = emulator;
  const config = new Config(
    {
      "azureml:armEndpoint": info.armEndpoint,
      "azureml:caCertPath": info.caCertPath,
      "azureml:subscriptionId": info.subscriptionId,
    },
    "bench",
  );
  const workspace = {
    resourceGroupName: info.resourceGroupName,
    workspaceName: info.workspaceName,
  };
  const suffix = Date.now().toString(36);
  const model = await checkAndCreate(await configured("modelVersion", config), {
    ...workspace,
    name: `bench-mlflow-${suffix}`,
    modelType: "mlflow_model",
    path: "azureml://jobs/bench/outputs/model",
  });
  const endpoint = await checkAndCreate(await configured("batchEndpoint", config), {
    ...workspace,
    name: `bench-ep-${suffix}`,
  });
  const deployments = await configured("batchDeployment", config);
  const mark = emulator.requests.mark();
  await checkAndCreate(deployments, {
    endpointId: endpoint.id,
    name: "blue",
    modelId: model.id,
    modelType: "mlflow_model",
    compute: "cpu-cluster",
  });
  const arm = emulator.requests.since(mark).filter((r) => r.plane === "arm");
  await (await configured("batchEndpoint", config)).delete(endpoint.id, endpoint.outs);
  return {
    "deployment create: ARM requests": arm.length,
    "deployment create: contract minimum (PUT, status poll, final GET)": CONTRACT_MINIMUM_REQUESTS,
    "deployment create: requests / minimum": arm.length / CONTRACT_MINIMUM_REQUESTS,
    "deployment create: reads before the PUT (endpoint, name taken?)": arm.findIndex(
      (r) => r.method === "PUT",
    ),
  };
}
