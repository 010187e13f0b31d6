/**
 * policyd's public face: the service module, its `PO` v1 frame codecs and client helpers, and
 * the grant table.
 *
 * @module
 */

export * from "./protocol.ts";
export { AUDIT_BACKLOG, Auditor, policyd } from "./main.ts";
export {
  type Decision,
  DELEGATE_GRANT,
  type Grant,
  GrantsError,
  INIT_SERVICE,
  parseGrants,
  Policy,
} from "./policy.ts";
