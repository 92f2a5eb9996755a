// Strings that exist only in the local runtime: its identity header, its local-only routes and its
// clock hook. A test (test/infra/wiring.test.ts) proves no deployed bundle contains any of them, so
// none of these shortcuts can reach AWS.
export const LOCAL_USER_HEADER = 'x-pam-local-user';
export const LOCAL_ROUTE_PREFIX = '/local/';
export const LOCAL_CLOCK_GLOBAL = '__pamLocalClock';

export const LOCAL_ONLY_MARKERS: readonly string[] = [
  LOCAL_USER_HEADER,
  `${LOCAL_ROUTE_PREFIX}clock`,
  `${LOCAL_ROUTE_PREFIX}slack`,
  LOCAL_CLOCK_GLOBAL,
];
