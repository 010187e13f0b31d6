/**
 * Test helper: validates a JUnit document against the shape Jenkins' xunit plugin accepts
 * (`fixtures/junit-10-constraints.xsd`, checked by libxml2 through xmllint-wasm) and returns it
 * as a small tree (through @xmldom/xmldom) so tests can count cases and read failures.
 *
 * @module
 */

import { validateXML } from "xmllint-wasm";
import { DOMParser, type Element } from "@xmldom/xmldom";

const SCHEMA = Deno.readTextFileSync(
  new URL("./fixtures/junit-10-constraints.xsd", import.meta.url),
);

/** An element of a checked document. */
export interface XmlNode {
  /** Tag name. */
  name: string;
  /** Attributes. */
  attrs: Record<string, string>;
  /** Child elements. */
  children: XmlNode[];
  /** Text directly inside the element. */
  text: string;
}

function toNode(el: Element): XmlNode {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    attrs[a.name] = a.value;
  }
  const children: XmlNode[] = [];
  let text = "";
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1) children.push(toNode(n as Element));
    else if (n.nodeType === 3 || n.nodeType === 4) text += n.nodeValue ?? "";
  }
  return { name: el.tagName, attrs, children, text };
}

/**
 * Throws unless every document is valid JUnit (one validator run for all: each costs a WASM
 * start).
 */
export async function validateJunit(...xmls: string[]): Promise<void> {
  const problems = (await junitProblems(...xmls)).flat();
  if (problems.length > 0) throw new Error(`invalid JUnit: ${problems.join("; ")}`);
}

/** The schema violations of each document, in order (empty lists for valid ones). */
export async function junitProblems(...xmls: string[]): Promise<string[][]> {
  const result = await validateXML({
    xml: xmls.map((contents, i) => ({ fileName: `report-${i}.xml`, contents })),
    schema: [{ fileName: "junit.xsd", contents: SCHEMA }],
  });
  const out: string[][] = xmls.map(() => []);
  for (const e of result.errors) {
    const i = Number(/^report-(\d+)\.xml$/.exec(e.loc?.fileName ?? "")?.[1] ?? 0);
    out[i].push(e.rawMessage);
  }
  return out;
}

/** Parses a JUnit document (well-formedness checked by the DOM parser) into a small tree. */
export function parseJunit(xml: string): XmlNode {
  const doc = new DOMParser({
    onError: (level, msg) => {
      throw new Error(`not well-formed (${level}): ${msg}`);
    },
  }).parseFromString(xml, "text/xml");
  return toNode(doc.documentElement!);
}

/** Validates `xml` against the schema and returns its tree. */
export async function checkJunit(xml: string): Promise<XmlNode> {
  await validateJunit(xml);
  return parseJunit(xml);
}

/** Every testcase of a checked document. */
export function testcases(root: XmlNode): XmlNode[] {
  return root.children.flatMap((s) => s.children.filter((c) => c.name === "testcase"));
}
