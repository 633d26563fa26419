/**
 * The request log: every request that reached any plane of the emulator, faulted ones included,
 * recorded once its response status is known. Tests read it to assert what a client actually sent
 * (retries, polls, client request ids) without timing assumptions.
 */
import type { FaultKind } from "./faults";

export type RequestPlane = "arm" | "blob" | "data" | "identity" | "admin" | "mlflow";

export interface RequestRecord {
  /** 1-based, increasing; `since(seq)` returns the records after it. */
  seq: number;
  plane: RequestPlane;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without the leading `?` ("" when absent); SAS `sig` values are REDACTED. */
  query: string;
  /** Response status; 0 when nothing was sent (a dropped connection, or a client that left first). */
  status: number;
  fault?: FaultKind;
  /** Blob plane: bytes of request body the front door received (sent on to Azurite or not). */
  requestBytes?: number;
  clientRequestId?: string;
  requestId: string;
}

export interface RequestLog {
  record(r: Omit<RequestRecord, "seq">): void;
  all(): RequestRecord[];
  /** Records with `seq` greater than the given one. */
  since(seq: number): RequestRecord[];
  /** The `seq` of the latest record (0 when empty): pass it to `since` later. */
  mark(): number;
  clear(): void;
}

export interface RequestLogOptions {
  /** Oldest records are dropped beyond this many. @default 10000 */
  maxRecords?: number;
}

/** What a SAS signature's value becomes in the log. */
export const REDACTED = "REDACTED";

/** A raw query string with the value of every SAS `sig` parameter replaced by REDACTED. */
export function redactSasSignature(query: string): string {
  return query.replace(/(^|&)(sig=)[^&]*/gi, `$1$2${REDACTED}`);
}

export function createRequestLog(options: RequestLogOptions = {}): RequestLog {
  const maxRecords = options.maxRecords ?? 10_000;
  if (!Number.isInteger(maxRecords) || maxRecords < 1) {
    throw new TypeError("Expected `maxRecords` to be a positive integer.");
  }
  let records: RequestRecord[] = [];
  // Sequence numbers keep increasing across clear() so an old mark never matches new records twice.
  let lastSeq = 0;
  return {
    record(r) {
      lastSeq += 1;
      // The log is readable over the admin API and lives long: no usable SAS in it.
      records.push({ ...r, query: redactSasSignature(r.query), seq: lastSeq });
      if (records.length > maxRecords) {
        records = records.slice(records.length - maxRecords);
      }
    },
    all: () => records.map((r) => ({ ...r })),
    since: (seq) => records.filter((r) => r.seq > seq).map((r) => ({ ...r })),
    mark: () => lastSeq,
    clear() {
      records = [];
    },
  };
}
