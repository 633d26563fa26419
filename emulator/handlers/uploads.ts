/**
 * `POST {ws}/codes/{name}/versions/{version}/startPendingUpload`: creates a fresh blob container
 * in the workspace storage and returns it with a container-level SAS (read, add, create, write,
 * list; one day), as `PendingUploadResponseDto`. The same `pendingUploadId` gets the same container.
 */
import { randomUUID } from "node:crypto";
import { ErrorFactory } from "../errors";
import type { HandlerContext, HandlerResult, Router } from "../router";
import { storageAccountId } from "../state/ids";
import { COLLECTIONS } from "../state/seed";
import { asObject } from "./common";
import { signContainerSas } from "./sas";

export const PENDING_UPLOAD_SAS_PERMISSIONS = "racwl";
export const PENDING_UPLOAD_SAS_LIFETIME_IN_MS = 24 * 60 * 60 * 1000;
/** SAS start time is backdated to absorb clock skew between client and storage. */
const CLOCK_SKEW_IN_MS = 5 * 60 * 1000;

interface PendingUploadRecord {
  containerName: string;
  codeName: string;
  version: string;
}

export function registerUploadHandlers(router: Router): void {
  // One start at a time per pendingUploadId: two concurrent first calls must share one container.
  const inFlight = new Map<string, Promise<void>>();
  const oneAtATime = async <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const previous = inFlight.get(id) ?? Promise.resolve();
    const current = previous.then(work);
    const settled = current.then(
      () => undefined,
      () => undefined,
    );
    inFlight.set(id, settled);
    try {
      return await current;
    } finally {
      if (inFlight.get(id) === settled) {
        inFlight.delete(id);
      }
    }
  };

  router.register("CodeVersions_CreateOrGetStartPendingUpload", (hc) => {
    const body = asObject(hc.body);
    const pendingUploadId =
      typeof body.pendingUploadId === "string" && body.pendingUploadId !== ""
        ? body.pendingUploadId
        : randomUUID();
    return oneAtATime(pendingUploadId, () => startPendingUpload(hc, pendingUploadId));
  });
}

async function startPendingUpload(
  hc: HandlerContext,
  pendingUploadId: string,
): Promise<HandlerResult> {
  const { settings, store } = hc.services;
  const body = asObject(hc.body);
  const pendingUploadType =
    (body.pendingUploadType as string | undefined) ?? "TemporaryBlobReference";
  const existing = store.get<PendingUploadRecord>(COLLECTIONS.pendingUploads, pendingUploadId);
  const containerName = existing?.containerName ?? `code-${randomUUID()}`;
  try {
    await settings.storage.createContainer(containerName);
  } catch (e) {
    throw ErrorFactory.storageUnavailable((e as Error)?.message ?? String(e));
  }
  store.put<PendingUploadRecord>(COLLECTIONS.pendingUploads, pendingUploadId, {
    containerName,
    codeName: hc.params.name,
    version: hc.params.version,
  });
  const now = hc.services.now();
  const sas = signContainerSas({
    accountName: settings.storage.accountName,
    accountKey: settings.storage.accountKey,
    containerName,
    permissions: PENDING_UPLOAD_SAS_PERMISSIONS,
    startsOn: new Date(now - CLOCK_SKEW_IN_MS),
    expiresOn: new Date(now + PENDING_UPLOAD_SAS_LIFETIME_IN_MS),
  });
  const endpoint = settings.storage.blobEndpoint.endsWith("/")
    ? settings.storage.blobEndpoint
    : `${settings.storage.blobEndpoint}/`;
  const blobUri = `${endpoint}${containerName}`;
  return {
    status: 200,
    body: {
      blobReferenceForConsumption: {
        blobUri,
        storageAccountArmId: storageAccountId(settings.scope, settings.storage.accountName),
        credential: { credentialType: "SAS", sasUri: `${blobUri}?${sas}` },
      },
      pendingUploadId,
      pendingUploadType,
    },
  };
}
