/**
 * Container-level service SAS signed with the account key (Azure Storage "service SAS",
 * string-to-sign for versions 2020-12-06 and later). Pure: the same inputs give the same token,
 * which the unit tests compare with @azure/storage-blob's `generateBlobSASQueryParameters`.
 */
import { createHmac } from "node:crypto";

export const SAS_VERSION = "2021-08-06";

export interface ContainerSasOptions {
  accountName: string;
  /** Base64 account key. */
  accountKey: string;
  containerName: string;
  /** In canonical order (r, a, c, w, d, x, l, ...). @default "racwl" */
  permissions?: string;
  startsOn?: Date;
  expiresOn: Date;
  /** "https" or "https,http"; omitted when undefined. */
  protocol?: string;
  /** @default SAS_VERSION */
  version?: string;
}

/** Returns the SAS query string (without `?`), parameters in the order the Azure SDK writes them. */
export function signContainerSas(options: ContainerSasOptions): string {
  const permissions = options.permissions ?? "racwl";
  const version = options.version ?? SAS_VERSION;
  const start = options.startsOn === undefined ? "" : isoSeconds(options.startsOn);
  const expiry = isoSeconds(options.expiresOn);
  const stringToSign = [
    permissions,
    start,
    expiry,
    `/blob/${options.accountName}/${options.containerName}`,
    "", // signed identifier
    "", // signed IP
    options.protocol ?? "",
    version,
    "c", // signed resource: container
    "", // snapshot time
    "", // encryption scope
    "", // rscc
    "", // rscd
    "", // rsce
    "", // rscl
    "", // rsct
  ].join("\n");
  const signature = createHmac("sha256", Buffer.from(options.accountKey, "base64"))
    .update(stringToSign, "utf8")
    .digest("base64");
  const query: Array<[string, string]> = [["sv", version]];
  if (options.protocol !== undefined) {
    query.push(["spr", options.protocol]);
  }
  if (start !== "") {
    query.push(["st", start]);
  }
  query.push(["se", expiry], ["sr", "c"], ["sp", permissions], ["sig", signature]);
  return query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

/** ISO 8601 without milliseconds, as SAS tokens carry it. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
