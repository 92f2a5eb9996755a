// The entitlement catalog use cases read: the validated config, with entitlements looked up by id.
import type { Entitlement, PamConfig } from '#domain/model.ts';
import type { EntitlementCatalog } from '#ports/index.ts';

export function makeCatalog(config: PamConfig): EntitlementCatalog {
  const byId = new Map<string, Entitlement>(
    config.entitlements.map((entitlement) => [entitlement.id, entitlement]),
  );
  return {
    config,
    get: (entitlementId) => byId.get(entitlementId),
    list: () => config.entitlements,
  };
}
