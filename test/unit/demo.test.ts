/** What `npm run demo` prints about the emulator's requests. */
import { expect } from "chai";
import type { RequestRecord } from "../../emulator/requestLog";
import { describeRequests } from "../../examples/demo";

function request(seq: number, plane: RequestRecord["plane"]): RequestRecord {
  return { seq, plane, method: "GET", path: "/", query: "", status: 200, requestId: `r${seq}` };
}

describe("npm run demo", () => {
  it("counts the emulator's requests by plane, token requests left out @unit", () => {
    const planes: RequestRecord["plane"][] = ["arm", "mlflow", "identity", "arm", "blob"];
    expect(describeRequests(planes.map((plane, i) => request(i + 1, plane)))).to.equal(
      "4 requests (arm 2, blob 1, mlflow 1)",
    );
    expect(describeRequests([request(1, "identity")])).to.equal("0 requests");
  });
});
