/**
 * Datastores: list (with isDefault/names/searchText/count), get, create or update, delete, and
 * `listSecrets`. Secrets are write-only: kept beside the resource, served only by listSecrets.
 */
import { ErrorFactory } from "../errors";
import { findQuery } from "../middleware/apiVersion";
import type { HandlerContext, Router } from "../router";
import { childId, storeKey } from "../state/ids";
import { COLLECTIONS } from "../state/seed";
import {
  asObject,
  nowIso,
  paginate,
  positiveIntQuery,
  systemData,
  type Json,
  type StoredResource,
} from "./common";

/** The datastore record: the resource plus its write-only secrets. */
interface StoredDatastore extends StoredResource {
  secrets?: Json;
}

const DATASTORE_PAGE_SIZE = 30;

export function registerDatastoreHandlers(router: Router): void {
  router.register("Datastores_List", (hc) => {
    const isDefault = findQuery(hc.query, "isDefault");
    const names = hc.query
      .getAll("names")
      .flatMap((n) => n.split(","))
      .filter((n) => n !== "")
      .map((n) => n.toLowerCase());
    const searchText = findQuery(hc.query, "searchText")?.toLowerCase();
    const orderBy = findQuery(hc.query, "orderBy");
    const ascending = findQuery(hc.query, "orderByAsc")?.toLowerCase() === "true";
    let items = hc.services.store
      .list<StoredDatastore>(COLLECTIONS.datastores)
      .map((e) => e.value.resource)
      .filter(
        (r) =>
          isDefault === undefined ||
          String(asObject(r.properties).isDefault) === isDefault.toLowerCase(),
      )
      .filter((r) => names.length === 0 || names.includes(r.name.toLowerCase()))
      .filter((r) => searchText === undefined || r.name.toLowerCase().includes(searchText));
    if (orderBy !== undefined) {
      items = [...items].sort((a, b) => a.name.localeCompare(b.name) * (ascending ? 1 : -1));
    }
    return {
      status: 200,
      body: paginate(hc, items, positiveIntQuery(hc, "count") ?? DATASTORE_PAGE_SIZE),
    };
  });

  router.register("Datastores_Get", (hc) => ({ status: 200, body: getDatastore(hc).resource }));

  router.register("Datastores_CreateOrUpdate", (hc) => {
    const { store, settings } = hc.services;
    const name = hc.params.name;
    const key = datastoreKey(hc);
    const existing = store.get<StoredDatastore>(COLLECTIONS.datastores, key);
    const properties = { ...asObject(asObject(hc.body).properties) };
    const credentials = { ...asObject(properties.credentials) };
    const secrets =
      credentials.secrets === undefined ? existing?.secrets : asObject(credentials.secrets);
    delete credentials.secrets;
    const record: StoredDatastore = {
      createdSeq: existing?.createdSeq ?? hc.services.nextSequence(),
      secrets,
      resource: {
        id: childId(settings.scope, "datastores", name),
        name,
        type: "Microsoft.MachineLearningServices/workspaces/datastores",
        systemData: systemData(nowIso(hc), existing?.resource.systemData as Json | undefined),
        properties: {
          tags: {},
          properties: {},
          ...properties,
          credentials,
          isDefault: asObject(existing?.resource.properties).isDefault ?? false,
        },
      },
    };
    store.put(COLLECTIONS.datastores, key, record);
    return { status: existing === undefined ? 201 : 200, body: record.resource };
  });

  router.register("Datastores_Delete", (hc) => {
    return {
      status: hc.services.store.delete(COLLECTIONS.datastores, datastoreKey(hc)) ? 200 : 204,
    };
  });

  router.register("Datastores_ListSecrets", (hc) => {
    const record = getDatastore(hc);
    const { storage } = hc.services.settings;
    if (record.secrets !== undefined) {
      return { status: 200, body: record.secrets };
    }
    const props = asObject(record.resource.properties);
    if (props.datastoreType === "AzureBlob" && props.accountName === storage.accountName) {
      return { status: 200, body: { secretsType: "AccountKey", key: storage.accountKey } };
    }
    throw ErrorFactory.badArgument(`Datastore ${record.resource.name} has no stored secrets.`);
  });
}

function datastoreKey(hc: HandlerContext): string {
  return storeKey(childId(hc.services.settings.scope, "datastores", hc.params.name));
}

function getDatastore(hc: HandlerContext): StoredDatastore {
  const record = hc.services.store.get<StoredDatastore>(COLLECTIONS.datastores, datastoreKey(hc));
  if (record === undefined) {
    throw ErrorFactory.mlNotFound(`datastore ${hc.params.name}`);
  }
  return record;
}
