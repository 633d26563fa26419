import { expect } from "chai";
import { registerUploadHandlers } from "../../emulator/handlers/uploads";
import {
  createRouter,
  specRoutes,
  type ControlPlaneServices,
  type HandlerContext,
  type HandlerResult,
} from "../../emulator/router";
import { loadSpec } from "../../emulator/spec/load";
import { createMemoryStore } from "../../emulator/state/store";
import { NAME_RULES } from "../../emulator/validate";

const OPERATION = "CodeVersions_CreateOrGetStartPendingUpload";

/** The startPendingUpload handler over a memory store and the given createContainer. */
function startPendingUploadHandler(createContainer: (name: string) => Promise<void>) {
  const router = createRouter(
    specRoutes(loadSpec(), { pattern: NAME_RULES.compute, description: "compute" }),
  );
  registerUploadHandlers(router);
  const handler = router.routes.find((r) => r.id === OPERATION)?.handler;
  if (handler === undefined) {
    throw new Error(`${OPERATION} has no handler`);
  }
  const created: string[] = [];
  const services = {
    settings: {
      scope: { subscriptionId: "s", resourceGroupName: "rg", workspaceName: "ws" },
      storage: {
        accountName: "devstoreaccount1",
        accountKey: Buffer.from("key").toString("base64"),
        blobEndpoint: "https://127.0.0.1:1/devstoreaccount1/",
        async createContainer(name: string) {
          created.push(name);
          await createContainer(name);
        },
      },
    },
    store: createMemoryStore(),
    now: () => Date.UTC(2026, 0, 1),
  } as unknown as ControlPlaneServices;
  const call = (body: unknown) =>
    Promise.resolve(
      handler({
        params: { name: "code", version: "1" },
        query: new URLSearchParams(),
        body,
        apiVersion: "2024-04-01",
        services,
      } as unknown as HandlerContext),
    );
  return { call, created };
}

const blobUriOf = (result: HandlerResult) =>
  (result.body as { blobReferenceForConsumption: { blobUri: string } }).blobReferenceForConsumption
    .blobUri;

describe("emulator startPendingUpload", () => {
  it("gives two concurrent first calls with the same new pendingUploadId one container @unit", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { call, created } = startPendingUploadHandler(() => gate);
    // All three start before any container exists; only then does storage answer.
    const calls = [
      call({ pendingUploadId: "upload-1" }),
      call({ pendingUploadId: "upload-1" }),
      call({ pendingUploadId: "upload-2" }),
    ];
    open();
    const [a, b, c] = await Promise.all(calls);
    expect(blobUriOf(b)).to.equal(blobUriOf(a));
    expect(blobUriOf(c)).to.not.equal(blobUriOf(a));
    expect(new Set(created).size).to.equal(2);
  });

  it("lets the next call with the same id go ahead when the one before it failed @unit", async () => {
    let failures = 1;
    const { call } = startPendingUploadHandler(async () => {
      if (failures-- > 0) {
        throw new Error("storage down");
      }
    });
    const outcomes = await Promise.all([
      call({ pendingUploadId: "upload-1" }).then(
        (r) => r.status,
        (e: { statusCode?: number }) => e.statusCode,
      ),
      call({ pendingUploadId: "upload-1" }).then((r) => r.status),
    ]);
    expect(outcomes).to.deep.equal([503, 200]);
  });
});
