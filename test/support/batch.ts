/**
 * Batch scoring set-ups for tests: an endpoint with a deployment made its default, over a code
 * folder, a model and a data folder uploaded through the providers, and datastore blobs read back.
 */
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import { armGet } from "./arm";
import { getEmulator, uniqueName } from "./emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "./providers";

const folders: string[] = [];

/** Removes the folders {@link folder} made. */
export function removeFolders(): void {
  for (const folder of folders.splice(0)) {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bsj-"));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/**
 * Multiplies column x of every row by the model's factor; a row "bad" raises; each mini-batch
 * takes the deployment's SCORE_DELAY_SECONDS.
 */
export const SCORE_PY = `
import glob, json, os, time

factor = None

def init():
    global factor
    [model] = glob.glob(os.path.join(os.environ["AZUREML_MODEL_DIR"], "**", "model.json"), recursive=True)
    with open(model) as f:
        factor = json.load(f)["factor"]

def run(mini_batch):
    time.sleep(float(os.environ.get("SCORE_DELAY_SECONDS", "0")))
    rows = []
    for path in mini_batch:
        with open(path) as f:
            next(f)
            for line in f:
                if line.strip() == "bad":
                    raise ValueError(f"cannot score {os.path.basename(path)}")
                rows.append([os.path.basename(path), int(line) * factor])
    return rows
`;

export async function readBlob(uri: string): Promise<string | undefined> {
  const { info } = getEmulator();
  const match = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.+)$/.exec(uri);
  if (match === null) {
    throw new Error(`not a datastore URI: ${uri}`);
  }
  const ds = await armGet(`${info.workspaceId}/datastores/${match[1]}`);
  const blob = new BlobServiceClient(
    info.blobEndpoint,
    new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
  )
    .getContainerClient(ds.properties.containerName)
    .getBlobClient(match[2]);
  return (await blob.exists()) ? (await blob.downloadToBuffer()).toString("utf8") : undefined;
}

export interface DeployOptions {
  /** Deployment settings (provider inputs) over the defaults here. */
  settings?: Record<string, unknown>;
  /** An MLflow model folder, scored without a scoring script. */
  mlflowModelPath?: string;
  /** The environment's conda file (text); image-only (the machine's python3) without it. */
  condaFile?: string;
  /** No environment on the deployment (allowed for an MLflow model: built from its files). */
  withoutEnvironment?: boolean;
}

export interface Deployed {
  endpointId: string;
  endpointName: string;
  dataUri: string;
}

/** An endpoint with one deployment (made the default), and a data folder of `files` CSVs. */
export async function deploy(
  files: Record<string, string>,
  options: DeployOptions = {},
): Promise<Deployed> {
  const ws = workspaceInputs();
  const env = await checkAndCreate(await configuredProvider("environmentVersion"), {
    ...ws,
    name: uniqueName("benv"),
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    ...(options.condaFile === undefined ? {} : { condaFile: options.condaFile }),
  });
  const code = await checkAndCreate(await configuredProvider("codeVersion"), {
    ...ws,
    name: uniqueName("bcode"),
    path: folder({ "score.py": SCORE_PY, "nonce.txt": randomUUID() }),
  });
  const model = await checkAndCreate(await configuredProvider("modelVersion"), {
    ...ws,
    name: uniqueName("bmodel"),
    ...(options.mlflowModelPath === undefined
      ? { path: folder({ "model/model.json": '{"factor": 3}', "nonce.txt": randomUUID() }) }
      : { path: options.mlflowModelPath, modelType: "mlflow_model" }),
  });
  const data = await checkAndCreate(await configuredProvider("dataVersion"), {
    ...ws,
    name: uniqueName("bdata"),
    dataType: "uri_folder",
    path: folder({ ...files, "nonce.csv": `x\n${Math.floor(Math.random() * 1000)}\n` }),
  });
  const endpointName = uniqueName("score");
  const endpoint = await checkAndCreate(await configuredProvider("batchEndpoint"), {
    ...ws,
    name: endpointName,
  });
  await checkAndCreate(await configuredProvider("batchDeployment"), {
    endpointId: endpoint.id,
    name: "blue",
    modelId: (model.outs as { assetId: string }).assetId,
    ...(options.mlflowModelPath === undefined
      ? {
          modelType: "custom_model",
          codeConfiguration: {
            codeId: (code.outs as { assetId: string }).assetId,
            scoringScript: "score.py",
          },
        }
      : { modelType: "mlflow_model" }),
    ...(options.withoutEnvironment === true
      ? {}
      : { environmentId: (env.outs as { assetId: string }).assetId }),
    compute: "cpu-cluster",
    miniBatchSize: 2,
    maxConcurrencyPerInstance: 2,
    retrySettings: { maxRetries: 0, timeoutInSeconds: 60 },
    ...options.settings,
  });
  await checkAndCreate(await configuredProvider("batchEndpointDefaultDeployment"), {
    endpointId: endpoint.id,
    deploymentName: "blue",
  });
  return { endpointId: endpoint.id, endpointName, dataUri: (data.outs as any).assetId };
}
