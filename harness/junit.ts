/**
 * JUnit XML for CI systems, in the shape Jenkins' xunit plugin validates (its `junit-10`
 * schema): a `ladder` suite with one testcase per required marker and a `checks` suite for what is
 * not a marker (failure signatures, init-marker order, the run ending within its limits).
 *
 * A testcase's `time` is a duration: for a marker, the virtual time from the previous marker seen
 * (or the start) to this one, so the ladder suite's cases add up to the time of its last marker.
 * The console excerpt appears once, as the failing suite's `system-out`; failing testcases say
 * what failed in one message.
 *
 * @example
 * ```ts
 * import { renderJunit } from "./junit.ts";
 * declare const verdict: import("./verdict.ts").Verdict;
 * Deno.writeTextFileSync("junit.xml", renderJunit(verdict));
 * ```
 *
 * @module
 */

import { endText, type Verdict } from "./verdict.ts";

/** Escapes text for element content or a double-quoted attribute value (always XML 1.0). */
export function escapeXml(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "'") out += "&apos;";
    else if (ch === "\n" || ch === "\t") out += ch;
    else if (ch === "\r") out += "&#13;";
    else if (!isXmlChar(c)) {
      // Not representable in XML 1.0 even as a reference: show it instead.
      out += `\\x${c.toString(16).padStart(2, "0")}`;
    } else out += ch;
  }
  return out;
}

/** True for code points XML 1.0 allows in a document. */
export function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

interface Case {
  classname: string;
  name: string;
  /** Seconds. */
  time: number;
  failure?: { type: string; message: string; body?: string };
}

/** Seconds as the schema's time type wants them: digits, a point, digits. */
function seconds(s: number): string {
  return Math.max(0, s).toFixed(6);
}

function excerptText(v: Verdict): string {
  if (!v.excerpt) return "";
  return v.excerpt.lines.map((l) => `${l.line}: ${l.text}`).join("\n");
}

function renderCase(c: Case): string {
  const head = `    <testcase classname="${escapeXml(c.classname)}" name="${
    escapeXml(c.name)
  }" time="${seconds(c.time)}"`;
  if (!c.failure) return `${head}/>`;
  const body = c.failure.body ? escapeXml(c.failure.body) : "";
  return `${head}>\n      <failure type="${escapeXml(c.failure.type)}" message="${
    escapeXml(c.failure.message)
  }">${body}</failure>\n    </testcase>`;
}

function renderSuite(name: string, cases: Case[], time: number, out = ""): string {
  const failures = cases.filter((c) => c.failure).length;
  return [
    `  <testsuite name="${
      escapeXml(name)
    }" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${
      seconds(time)
    }">`,
    ...cases.map(renderCase),
    ...(out !== "" ? [`    <system-out>${escapeXml(out)}</system-out>`] : []),
    "  </testsuite>",
  ].join("\n");
}

/** Renders `v` as a JUnit XML document. */
export function renderJunit(v: Verdict): string {
  let previousNs = 0;
  const ladderCases: Case[] = v.entries.map((e) => {
    const label = e.markers.join(" | ");
    let time = 0;
    if (e.seen && e.timeNs !== undefined) {
      time = Math.max(0, e.timeNs - previousNs) / 1e9;
      previousNs = Math.max(previousNs, e.timeNs);
    }
    const c: Case = { classname: `nexus.ladder.${e.phase}`, name: label, time };
    if (!e.seen) {
      const instead = e.instead ? `; line ${e.instead.line} has "${e.instead.marker}" instead` : "";
      c.failure = {
        type: "missing",
        message: `marker not seen (phase ${e.phase}; ended: ${endText(v)}${instead})`,
      };
    }
    return c;
  });
  const checks: Case[] = [];
  checks.push({
    classname: "nexus.checks",
    name: "no failure signature",
    time: 0,
    ...(v.failures.length > 0
      ? {
        failure: {
          type: "failure-signature",
          message: `${v.failures.length} failure line(s); first at line ${v.failures[0].line}: ${
            v.failures[0].text
          }`,
          body: v.failures.map((f) => `line ${f.line}: ${f.text}`).join("\n"),
        },
      }
      : {}),
  });
  checks.push({
    classname: "nexus.checks",
    name: "init markers in ladder order",
    time: 0,
    ...(v.orderViolations.length > 0
      ? {
        failure: {
          type: "order",
          message: `${v.orderViolations.length} order violation(s)`,
          body: v.orderViolations.map((o) =>
            `"${o.marker}" (line ${o.line}) came after "${o.after.marker}" (line ${o.after.line})`
          ).join("\n"),
        },
      }
      : {}),
  });
  const cut = v.end === "timeout" || v.end === "interrupted";
  checks.push({
    classname: "nexus.checks",
    name: "run ended within its limits",
    time: 0,
    ...(cut ? { failure: { type: v.end, message: endText(v) } } : {}),
  });
  const all = [...ladderCases, ...checks];
  const failures = all.filter((c) => c.failure).length;
  const excerpt = excerptText(v);
  // The excerpt goes once, on the suite that failed first in reading order.
  const ladderFailed = ladderCases.some((c) => c.failure);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="nexus" tests="${all.length}" failures="${failures}" errors="0" time="${
      seconds(v.wallMs / 1000)
    }">`,
    renderSuite(
      `ladder (phase ${v.phase})`,
      ladderCases,
      previousNs / 1e9,
      ladderFailed ? excerpt : "",
    ),
    renderSuite("checks", checks, 0, ladderFailed ? "" : excerpt),
    "</testsuites>",
    "",
  ].join("\n");
}

/** A JUnit document for a run that ended in a usage or configuration error: one erroring case. */
export function renderJunitError(message: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="nexus" tests="1" failures="0" errors="1" time="0.000000">',
    '  <testsuite name="run" tests="1" failures="0" errors="1" skipped="0" time="0.000000">',
    `    <testcase classname="nexus.run" name="run started" time="0.000000">`,
    `      <error type="usage" message="${escapeXml(message)}"/>`,
    "    </testcase>",
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
