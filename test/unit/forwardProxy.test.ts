// The emulator's forward proxy decides where each CONNECT goes; nothing leaves the machine.
import { expect } from "chai";
import { tunnelTarget } from "../../emulator/proxy";

describe("forward proxy targets", () => {
  it("sends <account>.blob.core.windows.net:443 to the blob front door, as SDK uploads need @unit", () => {
    expect(tunnelTarget("devstoreaccount1.blob.core.windows.net:443", 4711)).to.deep.equal({
      host: "127.0.0.1",
      port: 4711,
    });
  });

  it("tunnels to loopback listeners and refuses every other host or port @unit", () => {
    expect(tunnelTarget("127.0.0.1:8443", 4711)).to.deep.equal({ host: "127.0.0.1", port: 8443 });
    expect(tunnelTarget("[::1]:8443", 4711)).to.deep.equal({ host: "::1", port: 8443 });
    for (const refused of [
      "management.azure.com:443",
      "devstoreaccount1.blob.core.windows.net:80",
      "x.blob.core.windows.net.evil.example:443",
      "devstoreaccount1.queue.core.windows.net:443",
      "no-port",
    ]) {
      expect(tunnelTarget(refused, 4711), refused).to.equal(undefined);
    }
  });
});
