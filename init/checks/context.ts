/**
 * What every wiring check shares: the manifest being checked, the tasks as the checks see them
 * (init first, then the services in start order, each with the needs its module declares), the
 * problem list the checks append to, and the small helpers several checks phrase fixes with.
 *
 * @module
 */

import type { SlotNeed } from "../../core/kernel/service.ts";
import { FIRST_SERVICE_SLOT } from "../../core/kernel/types.ts";
import type { Diagnostic, DiagnosticCode } from "../diagnostic.ts";
import { INIT_NAME, type ManifestLoad, type SlotDecl, type SystemManifest } from "../manifest.ts";
import { type ServiceRegistry, taskNeeds } from "../needs.ts";

/** One task's table as the checks see it. */
export interface TaskView {
  name: string;
  slots: SlotDecl[];
  /** Declared needs; undefined when the module is unknown. */
  needs?: readonly SlotNeed[];
  line?: number;
}

/** The manifest under check and the problems found so far. */
export class CheckContext {
  /** The manifest (what the loader could read of it). */
  readonly m: SystemManifest;
  /** Every problem, in the order found: the loader's first. */
  readonly problems: Diagnostic[];
  /** Declared service names, in start order. */
  readonly serviceNames: string[];
  /** Declared endpoint names. */
  readonly endpointNames: string[];
  /** Each task's declared needs; tasks with an unknown module are absent. */
  readonly needsByTask: Map<string, readonly SlotNeed[]>;
  /** init, then every service in start order. */
  readonly tasks: TaskView[];

  /** Sets up the check of `load` against the modules of `registry`. */
  constructor(readonly load: ManifestLoad, readonly registry: ServiceRegistry) {
    const m = load.manifest;
    this.m = m;
    this.problems = [...load.diagnostics];
    this.serviceNames = m.services.map((s) => s.name);
    this.endpointNames = m.endpoints.map((e) => e.name);
    this.needsByTask = taskNeeds(m, registry);
    this.tasks = [
      {
        name: INIT_NAME,
        slots: m.init.slots,
        needs: this.needsByTask.get(INIT_NAME),
        // Read only for a problem to place: looking a line up parses the text again.
        get line() {
          return m.init.line;
        },
      },
      ...m.services.map((s) => ({
        name: s.name,
        slots: s.slots,
        needs: this.needsByTask.get(s.name),
        get line() {
          return s.line;
        },
      })),
    ];
  }

  /** Records a problem in the manifest's file. */
  push(
    severity: Diagnostic["severity"],
    code: DiagnosticCode,
    message: string,
    hint: string,
    where: Partial<Diagnostic>,
  ): void {
    this.problems.push({ severity, code, message, hint, file: this.m.file, ...where });
  }

  /** True for init and every declared service. */
  isTaskName(n: string): boolean {
    return n === INIT_NAME || this.serviceNames.includes(n);
  }

  /** The lowest free slot of `t`'s table at or above the first service slot, ignoring `avoid`. */
  freeSlot(t: TaskView, avoid?: SlotDecl): number {
    const used = new Set(t.slots.filter((s) => s !== avoid).map((s) => s.slot));
    let n = FIRST_SERVICE_SLOT;
    while (used.has(n)) n++;
    return n;
  }
}

/** Where `t`'s slots are declared, as a fix names it. */
export function tableOf(t: TaskView): string {
  return t.name === INIT_NAME ? "[init.slots]" : `[service.slots] of ${t.name}`;
}
