/**
 * JUnit XML for CI systems: a `ladder` suite with one testcase per required marker (a missing one
 * fails and carries the console excerpt), and a `checks` suite for what is not a marker: failure
 * signatures, init-marker order, and the run ending within its limits.
 *
 * @module
 */

import { endText, type Verdict } from "./verdict.ts";
import { escapeXml } from "./xml.ts";

interface Case {
  classname: string;
  name: string;
  time: number;
  failure?: { type: string; message: string; body: string };
}

function excerptText(v: Verdict): string {
  if (!v.excerpt) return "";
  return v.excerpt.lines.map((l) => `${l.line}: ${l.text}`).join("\n");
}

function renderCase(c: Case): string {
  const head = `    <testcase classname="${escapeXml(c.classname)}" name="${
    escapeXml(c.name)
  }" time="${c.time.toFixed(6)}"`;
  if (!c.failure) return `${head}/>`;
  return `${head}>\n      <failure type="${escapeXml(c.failure.type)}" message="${
    escapeXml(c.failure.message)
  }">${escapeXml(c.failure.body)}</failure>\n    </testcase>`;
}

function renderSuite(name: string, cases: Case[], time: number): string {
  const failures = cases.filter((c) => c.failure).length;
  return [
    `  <testsuite name="${
      escapeXml(name)
    }" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${
      time.toFixed(3)
    }">`,
    ...cases.map(renderCase),
    "  </testsuite>",
  ].join("\n");
}

/** Renders `v` as a JUnit XML document. */
export function renderJunit(v: Verdict): string {
  const excerpt = excerptText(v);
  const ladderCases: Case[] = v.entries.map((e) => {
    const label = e.markers.join(" | ");
    const c: Case = {
      classname: `nexus.ladder.${e.phase}`,
      name: label,
      time: e.timeNs !== undefined ? e.timeNs / 1e9 : 0,
    };
    if (!e.seen) {
      const instead = e.instead ? `; line ${e.instead.line} has "${e.instead.marker}" instead` : "";
      c.failure = {
        type: "missing",
        message: `marker not seen (phase ${e.phase}; ended: ${endText(v)}${instead})`,
        body: excerpt,
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
          body: [
            ...v.failures.map((f) => `line ${f.line}: ${f.text}`),
            "",
            excerpt,
          ].join("\n"),
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
    time: v.wallMs / 1000,
    ...(cut ? { failure: { type: v.end, message: endText(v), body: excerpt } } : {}),
  });
  const all = [...ladderCases, ...checks];
  const failures = all.filter((c) => c.failure).length;
  const time = v.wallMs / 1000;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="nexus" tests="${all.length}" failures="${failures}" errors="0" time="${
      time.toFixed(3)
    }">`,
    renderSuite(`ladder (phase ${v.phase})`, ladderCases, time),
    renderSuite("checks", checks, time),
    "</testsuites>",
    "",
  ].join("\n");
}
