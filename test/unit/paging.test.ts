import { expect } from "chai";
import type { AzureMlRequest, AzureMlResponse } from "../../provider/core/client";
import { iterateAll, listAll, withApiVersion, type PagingClient } from "../../provider/core/paging";
import { DEFAULT_SETTINGS } from "../../provider/core/settings";

function fakeClient(pages: Record<string, unknown>) {
  const requests: AzureMlRequest[] = [];
  const client: PagingClient = {
    settings: { ...DEFAULT_SETTINGS, apiVersion: "2025-12-01" },
    async request<T>(request: AzureMlRequest): Promise<AzureMlResponse<T>> {
      requests.push(request);
      const key = request.url ?? request.path!;
      if (!(key in pages)) {
        throw new Error(`unexpected ${key}`);
      }
      return { statusCode: 200, headers: {}, body: pages[key] as T, url: key, attempts: 1 };
    },
  };
  return { client, requests };
}

describe("paging", () => {
  it("follows absolute nextLinks until absent and keeps the order @unit", async () => {
    const { client, requests } = fakeClient({
      "/ws/codes": {
        value: [1, 2],
        nextLink: "https://arm/ws/codes?api-version=2025-12-01&$skip=a",
      },
      "https://arm/ws/codes?api-version=2025-12-01&$skip=a": {
        value: [3],
        nextLink: "https://arm/ws/codes?api-version=2025-12-01&$skip=b",
      },
      "https://arm/ws/codes?api-version=2025-12-01&$skip=b": { value: [4] },
    });
    expect(await listAll<number>(client, "/ws/codes", { listViewType: "All" })).to.deep.equal([
      1, 2, 3, 4,
    ]);
    expect(requests[0]).to.include({ path: "/ws/codes", method: "GET" });
    expect(requests[0]!.query).to.deep.equal({ listViewType: "All" });
    // The query is part of the nextLink; it is not appended again.
    expect(requests[1]).to.include({ url: "https://arm/ws/codes?api-version=2025-12-01&$skip=a" });
    expect(requests[1]!.query).to.equal(undefined);
  });

  it("treats a page without value, or an empty nextLink, as the end @unit", async () => {
    const { client } = fakeClient({ "/a": { nextLink: "" }, "/b": { value: [], nextLink: null } });
    expect(await listAll(client, "/a")).to.deep.equal([]);
    expect(await listAll(client, "/b")).to.deep.equal([]);
  });

  it("adds api-version to a nextLink that lacks it @unit", async () => {
    const { client, requests } = fakeClient({
      "/a": { value: [1], nextLink: "https://arm/a?$skip=x" },
      "https://arm/a?$skip=x&api-version=2025-12-01": { value: [2] },
    });
    expect(await listAll(client, "/a")).to.deep.equal([1, 2]);
    expect(requests[1]!.url).to.equal("https://arm/a?$skip=x&api-version=2025-12-01");
    expect(withApiVersion("https://h/x", "v")).to.equal("https://h/x?api-version=v");
    expect(withApiVersion("https://h/x?API-VERSION=1", "v")).to.equal("https://h/x?API-VERSION=1");
  });

  it("stops with an error when the service repeats a nextLink @unit", async () => {
    const { client } = fakeClient({
      "/a": { value: [1], nextLink: "https://arm/a?api-version=1&$skip=x" },
      "https://arm/a?api-version=1&$skip=x": {
        value: [2],
        nextLink: "https://arm/a?api-version=1&$skip=x",
      },
    });
    const error = await listAll(client, "/a").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error).with.property("message").that.includes("same nextLink");
  });

  it("iterates lazily, fetching a page only when needed @unit", async () => {
    const { client, requests } = fakeClient({
      "/a": { value: [1, 2], nextLink: "https://arm/a?api-version=1&$skip=x" },
      "https://arm/a?api-version=1&$skip=x": { value: [3] },
    });
    for await (const item of iterateAll<number>(client, "/a")) {
      expect(item).to.equal(1);
      break;
    }
    expect(requests).to.have.length(1);
  });

  it("honours maxPages @unit", async () => {
    const { client } = fakeClient({
      "/a": { value: [1], nextLink: "https://arm/a?api-version=1&$skip=x" },
      "https://arm/a?api-version=1&$skip=x": { value: [2] },
    });
    expect(await listAll(client, "/a", undefined, { maxPages: 1 })).to.deep.equal([1]);
  });
});
