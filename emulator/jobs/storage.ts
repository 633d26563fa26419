/**
 * The runner's blob access, with the workspace storage account's key (as Azure ML's own services
 * hold it): download a blob or a folder (prefix), upload a file or a folder.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";

/** A place in the workspace storage account. `prefix` has no leading slash; "" is the container. */
export interface BlobLocation {
  container: string;
  prefix: string;
}

export interface BlobAccess {
  /** Downloads one blob (`kind: "file"`) or every blob under `prefix/` into `dest`; returns the local path. */
  download(
    location: BlobLocation,
    dest: string,
    kind: "file" | "folder",
    signal?: AbortSignal,
  ): Promise<{ path: string; files: number }>;
  /** True when a blob with exactly this name exists. */
  isBlob(location: BlobLocation): Promise<boolean>;
  uploadFile(location: BlobLocation, file: string): Promise<void>;
  /** Uploads every file under `folder` below `location.prefix`; returns how many. */
  uploadFolder(location: BlobLocation, folder: string): Promise<number>;
}

export function createBlobAccess(options: {
  /** Account URL, e.g. `http://127.0.0.1:10000/devstoreaccount1`. */
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
}): BlobAccess {
  const service = new BlobServiceClient(
    options.blobEndpoint.replace(/\/+$/, ""),
    new StorageSharedKeyCredential(options.accountName, options.accountKey),
  );
  const container = (name: string) => service.getContainerClient(name);

  return {
    async isBlob({ container: c, prefix }) {
      if (prefix === "" || prefix.endsWith("/")) {
        return false;
      }
      return container(c).getBlobClient(prefix).exists();
    },
    async download(location, dest, kind, signal) {
      const client = container(location.container);
      if (kind === "file") {
        const blobName = location.prefix.replace(/\/+$/, "");
        const file = path.join(dest, path.posix.basename(blobName));
        await fs.mkdir(dest, { recursive: true });
        await client.getBlobClient(blobName).downloadToFile(file, 0, undefined, {
          abortSignal: signal,
        });
        return { path: file, files: 1 };
      }
      const prefix =
        location.prefix === "" || location.prefix.endsWith("/")
          ? location.prefix
          : `${location.prefix}/`;
      await fs.mkdir(dest, { recursive: true });
      let files = 0;
      for await (const blob of client.listBlobsFlat({ prefix, abortSignal: signal })) {
        const relative = blob.name.slice(prefix.length);
        if (relative === "" || relative.endsWith("/")) {
          continue;
        }
        const target = path.join(dest, ...relative.split("/"));
        if (!target.startsWith(dest + path.sep)) {
          continue; // a blob name with `..` segments must not escape the folder
        }
        await fs.mkdir(path.dirname(target), { recursive: true });
        await client.getBlobClient(blob.name).downloadToFile(target, 0, undefined, {
          abortSignal: signal,
        });
        files++;
      }
      return { path: dest, files };
    },
    async uploadFile({ container: c, prefix }, file) {
      await container(c).getBlockBlobClient(prefix).uploadFile(file);
    },
    async uploadFolder({ container: c, prefix }, folder) {
      const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
      let count = 0;
      for (const file of await listFiles(folder)) {
        const relative = path.relative(folder, file).split(path.sep).join("/");
        await container(c).getBlockBlobClient(`${base}${relative}`).uploadFile(file);
        count++;
      }
      return count;
    },
  };
}

/** Every regular file under `folder` (symbolic links followed only when they point at files). */
export async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(folder, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      out.push(...(await listFiles(full)));
    } else if (entry.isFile()) {
      out.push(full);
    } else if (entry.isSymbolicLink()) {
      const stat = await fs.stat(full).catch(() => undefined);
      if (stat?.isFile() === true) {
        out.push(full);
      }
    }
  }
  return out.sort();
}
